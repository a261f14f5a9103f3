"""the board agenda's live list of ambassador feedback

Revision ID: b43c055cf1e4
Revises: d6b545bf7dd3
Create Date: 2026-12-04 18:50:36.388643

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b43c055cf1e4'
down_revision = 'd6b545bf7dd3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_board_agenda_listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['feedback_board_agenda_entry.id'], name=op.f('fk_feedback_board_agenda_listing_entry_id_feedback_board_agenda_entry')),
    sa.ForeignKeyConstraint(['feedback_id'], ['ambassador_feedback.id'], name=op.f('fk_feedback_board_agenda_listing_feedback_id_ambassador_feedback')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_board_agenda_listing')),
    sa.UniqueConstraint('entry_id', 'feedback_id', name=op.f('uq_feedback_board_agenda_listing_entry_id_feedback_id'))
    )
    with op.batch_alter_table('feedback_board_agenda_listing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_board_agenda_listing_feedback_id'), ['feedback_id'], unique=False)

    with op.batch_alter_table('feedback_board_agenda_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('feedback_board_agenda_entry', schema=None) as batch_op:
        batch_op.drop_column('refreshed_at')

    with op.batch_alter_table('feedback_board_agenda_listing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_board_agenda_listing_feedback_id'))

    op.drop_table('feedback_board_agenda_listing')
