"""newsletter suppressions and preferences belong to one organisation

Revision ID: a3e5c7d9f101
Revises: d64e034816c9
Create Date: 2026-12-10 09:00:00.000000

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'a3e5c7d9f101'
down_revision = 'd64e034816c9'
branch_labels = None
depends_on = None

TABLES = ('newsletter_suppression', 'newsletter_preference')


def _organisations_knowing(bind, email):
    """The organisations that have the address: an account, a subscriber or a delivery."""
    return sorted(set(bind.execute(sa.text("""
        SELECT person.organisation_id FROM person
          JOIN user_account ON user_account.person_id = person.id
         WHERE lower(user_account.email) = :email
        UNION
        SELECT service.organisation_id FROM service
          JOIN newsletter_subscriber ON newsletter_subscriber.service_id = service.id
         WHERE newsletter_subscriber.email = :email
        UNION
        SELECT newsletter_issue.organisation_id FROM newsletter_issue
          JOIN newsletter_delivery ON newsletter_delivery.issue_id = newsletter_issue.id
         WHERE newsletter_delivery.email = :email
    """), {"email": email}).scalars()))


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _upgrade()


def _upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_email', type_='unique')
            batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    # Each address's entry is copied to every organisation that has the address: an
    # unsubscribe made when it stopped every organisation's newsletters keeps stopping each
    # of them, and a print request stays with whoever prints. An address no organisation has
    # any more is mailed by nobody: its entry goes.
    bind = op.get_bind()
    for table in TABLES:
        columns = [c for c in sa.inspect(bind).get_columns(table)
                   if c['name'] not in ('id', 'organisation_id')]
        names = [c['name'] for c in columns]
        rows = bind.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table}")).mappings().all()
        for row in rows:
            organisations = _organisations_knowing(bind, row['email'].lower())
            if not organisations:
                bind.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": row['id']})
                continue
            bind.execute(sa.text(f"UPDATE {table} SET organisation_id = :org WHERE id = :id"),
                         {"org": organisations[0], "id": row['id']})
            for organisation_id in organisations[1:]:
                values = {name: row[name] for name in names}
                values['organisation_id'] = organisation_id
                bind.execute(sa.text(
                    f"INSERT INTO {table} (organisation_id, {', '.join(names)}) "
                    f"VALUES (:organisation_id, {', '.join(':' + n for n in names)})"), values)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_organisation_id_organisation'),
                                        'organisation', ['organisation_id'], ['id'])
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_organisation_id_email'),
                                              ['organisation_id', 'email'])


def downgrade():
    # Back to one entry per address: the earliest of its organisations' entries is kept.
    bind = op.get_bind()
    for table in TABLES:
        bind.execute(sa.text(f"""
            DELETE FROM {table} WHERE id NOT IN (
                SELECT min(id) FROM {table} GROUP BY email)"""))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_organisation_id_email'), type_='unique')
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_organisation_id_organisation'),
                                     type_='foreignkey')
            batch_op.drop_column('organisation_id')
            batch_op.create_unique_constraint(f'uq_{table}_email', ['email'])
