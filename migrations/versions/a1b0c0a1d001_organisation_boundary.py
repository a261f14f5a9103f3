"""organisation boundary: every audit event, action and board agenda entry names its organisation

Revision ID: a1b0c0a1d001
Revises: 2ac7ed5e7266
Create Date: 2026-12-04 18:30:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'a1b0c0a1d001'
down_revision = '2ac7ed5e7266'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds tables in batch mode and reflects the person table on the way, whose
    # expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _upgrade()


def _upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_organisation_id'), ['organisation_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_organisation_id_organisation'),
                                    'organisation', ['organisation_id'], ['id'])
    # Existing events belong to the organisation of their service, else of their actor or
    # subject.
    op.execute("""
        UPDATE audit_event SET organisation_id = COALESCE(
            (SELECT organisation_id FROM service WHERE service.id = audit_event.service_id),
            (SELECT organisation_id FROM person WHERE person.id = audit_event.actor_id),
            (SELECT organisation_id FROM person WHERE person.id = audit_event.subject_id))
    """)

    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.execute("""
        UPDATE meeting_action SET organisation_id =
            (SELECT organisation_id FROM person WHERE person.id = meeting_action.owner_id)
    """)
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_meeting_action_organisation_id'),
                              ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_meeting_action_organisation_id_organisation'),
                                    'organisation', ['organisation_id'], ['id'])

    with op.batch_alter_table('feedback_board_agenda_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.execute("""
        UPDATE feedback_board_agenda_entry SET organisation_id =
            (SELECT organisation_id FROM person
             WHERE person.id = feedback_board_agenda_entry.added_by_id)
    """)
    with op.batch_alter_table('feedback_board_agenda_entry', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_feedback_board_agenda_entry_organisation_id_organisation'),
            'organisation', ['organisation_id'], ['id'])


def downgrade():
    with op.batch_alter_table('feedback_board_agenda_entry', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_feedback_board_agenda_entry_organisation_id_organisation'),
            type_='foreignkey')
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meeting_action_organisation_id_organisation'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_meeting_action_organisation_id'))
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_organisation_id_organisation'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_organisation_id'))
        batch_op.drop_column('organisation_id')
