"""complaints reopened and extended, with a reason

Revision ID: 363aebe164fa
Revises: e2f3a4b5c6d7
Create Date: 2026-12-04 18:46:45.479417

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '363aebe164fa'
down_revision = 'e2f3a4b5c6d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_submission_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reopened', 'extended', name='submission_step_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('answer_by_before', sa.Date(), nullable=True),
    sa.Column('answer_by_after', sa.Date(), nullable=True),
    sa.Column('previous_answer', sa.Text(), nullable=False),
    sa.Column('previous_outcome', sa.String(length=40), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason <> ''", name=op.f('ck_feedback_submission_step_step_has_reason')),
    sa.ForeignKeyConstraint(['submission_id'], ['feedback_submission.id'], name=op.f('fk_feedback_submission_step_submission_id_feedback_submission')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['person.id'], name=op.f('fk_feedback_submission_step_taken_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_submission_step'))
    )
    with op.batch_alter_table('feedback_submission_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_submission_step_submission_id'), ['submission_id'], unique=False)



def downgrade():
    with op.batch_alter_table('feedback_submission_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_submission_step_submission_id'))

    op.drop_table('feedback_submission_step')
