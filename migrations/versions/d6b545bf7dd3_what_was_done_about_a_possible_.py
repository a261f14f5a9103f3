"""what was done about a possible safeguarding matter

Revision ID: d6b545bf7dd3
Revises: 363aebe164fa
Create Date: 2026-12-04 18:48:56.246525

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd6b545bf7dd3'
down_revision = '363aebe164fa'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_safeguarding_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('action_taken', sa.Text(), nullable=False),
    sa.Column('referral_made', sa.Boolean(), nullable=False),
    sa.Column('referred_to', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("NOT referral_made OR referred_to <> ''", name=op.f('ck_feedback_safeguarding_record_referral_names_whom')),
    sa.CheckConstraint("action_taken <> ''", name=op.f('ck_feedback_safeguarding_record_says_what_was_done')),
    sa.ForeignKeyConstraint(['feedback_id'], ['ambassador_feedback.id'], name=op.f('fk_feedback_safeguarding_record_feedback_id_ambassador_feedback')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_feedback_safeguarding_record_recorded_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_safeguarding_record'))
    )
    with op.batch_alter_table('feedback_safeguarding_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_safeguarding_record_feedback_id'), ['feedback_id'], unique=False)



def downgrade():
    with op.batch_alter_table('feedback_safeguarding_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_safeguarding_record_feedback_id'))

    op.drop_table('feedback_safeguarding_record')
