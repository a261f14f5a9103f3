"""speak-up concerns to a named Freedom to Speak Up guardian

Revision ID: d64e034816c9
Revises: 5b05b55d5701
Create Date: 2026-12-04 18:56:20.988256

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd64e034816c9'
down_revision = '5b05b55d5701'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table in batch mode and reflects the person table on the way,
    # whose expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table('feedback_settings', schema=None) as batch_op:
            batch_op.add_column(sa.Column('speak_up_guardian_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_feedback_settings_speak_up_guardian_id_person'), 'person', ['speak_up_guardian_id'], ['id'])

        with op.batch_alter_table('feedback_submission', schema=None) as batch_op:
            batch_op.add_column(sa.Column('guardian_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_feedback_submission_guardian_id_person'), 'person', ['guardian_id'], ['id'])
            batch_op.create_check_constraint(
                op.f('ck_feedback_submission_only_speak_up_goes_to_the_guardian'),
                "guardian_id IS NULL OR kind = 'speak_up'")


def downgrade():
    # SQLite rebuilds the table in batch mode and reflects the person table on the way,
    # whose expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table('feedback_submission', schema=None) as batch_op:
            batch_op.drop_constraint(
                op.f('ck_feedback_submission_only_speak_up_goes_to_the_guardian'), type_='check')
            batch_op.drop_constraint(batch_op.f('fk_feedback_submission_guardian_id_person'), type_='foreignkey')
            batch_op.drop_column('guardian_id')

        with op.batch_alter_table('feedback_settings', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_feedback_settings_speak_up_guardian_id_person'), type_='foreignkey')
            batch_op.drop_column('speak_up_guardian_id')
