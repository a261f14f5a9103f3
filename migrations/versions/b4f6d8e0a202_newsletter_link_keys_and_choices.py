"""newsletter links by opaque key per organisation and address; choices per newsletter

Revision ID: b4f6d8e0a202
Revises: a3e5c7d9f101
Create Date: 2026-12-10 10:00:00.000000

"""
import secrets
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'b4f6d8e0a202'
down_revision = 'a3e5c7d9f101'
branch_labels = None
depends_on = None


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table('newsletter_preference', schema=None) as batch_op:
            batch_op.add_column(sa.Column('link_key', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('stopped_lists', sa.JSON(), nullable=False,
                                          server_default='[]'))
        # Every address already known gets its key now; links sent before keys keep working
        # (their signature is still read), and move to the key when opened.
        bind = op.get_bind()
        for (row_id,) in bind.execute(sa.text("SELECT id FROM newsletter_preference")).all():
            bind.execute(sa.text("UPDATE newsletter_preference SET link_key = :key "
                                 "WHERE id = :id"),
                         {"key": secrets.token_urlsafe(24), "id": row_id})
        with op.batch_alter_table('newsletter_preference', schema=None) as batch_op:
            batch_op.alter_column('link_key', existing_type=sa.String(length=64),
                                  nullable=False)
            batch_op.alter_column('stopped_lists', existing_type=sa.JSON(),
                                  server_default=None)
            batch_op.create_unique_constraint(batch_op.f('uq_newsletter_preference_link_key'),
                                              ['link_key'])


def downgrade():
    with op.batch_alter_table('newsletter_preference', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_newsletter_preference_link_key'),
                                 type_='unique')
        batch_op.drop_column('stopped_lists')
        batch_op.drop_column('link_key')
