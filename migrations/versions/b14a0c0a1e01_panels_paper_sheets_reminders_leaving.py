"""panels: sheets entered from paper, members who leave a confirmed panel, score reminders

Revision ID: b14a0c0a1e01
Revises: b2c0d0e0f015
Create Date: 2026-12-05 10:00:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'b14a0c0a1e01'
down_revision = 'b2c0d0e0f015'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds tables in batch mode and reflects the person table on the way, whose
    # expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _upgrade()


def _upgrade():
    with op.batch_alter_table('recruitment_score_sheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_paper', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('entered_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recruitment_score_sheet_entered_by_id_person'),
                                    'person', ['entered_by_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_recruitment_score_sheet_paper_says_who_entered'),
            'NOT from_paper OR entered_by_id IS NOT NULL')

    with op.batch_alter_table('recruitment_panel_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('recruitment_score_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('email', 'home', 'in_person', name='score_reminder_channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['panel_member_id'], ['recruitment_panel_member.id'], name=op.f('fk_recruitment_score_reminder_panel_member_id_recruitment_panel_member')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['person.id'], name=op.f('fk_recruitment_score_reminder_sent_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recruitment_score_reminder')),
    sa.UniqueConstraint('panel_member_id', name=op.f('uq_recruitment_score_reminder_panel_member_id'))
    )


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        op.drop_table('recruitment_score_reminder')
        with op.batch_alter_table('recruitment_panel_member', schema=None) as batch_op:
            batch_op.drop_column('left_at')
        with op.batch_alter_table('recruitment_score_sheet', schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f('ck_recruitment_score_sheet_paper_says_who_entered'), type_='check')
            batch_op.drop_constraint(
                batch_op.f('fk_recruitment_score_sheet_entered_by_id_person'),
                type_='foreignkey')
            batch_op.drop_column('entered_by_id')
            batch_op.drop_column('from_paper')
