"""newsletter sends held up by their mail server; one claim per due time of scheduled work

Revision ID: 5d1c0e9a7b21
Revises: b14a0c0a1e01
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c0e9a7b21'
down_revision = 'b14a0c0a1e01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduled_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('due_key', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_run')),
    sa.UniqueConstraint('task', 'due_key', name=op.f('uq_scheduled_run_task_due_key'))
    )
    # Plain ADD COLUMN (SQLite needs no table copy for it); the defaults fill existing rows.
    op.add_column('newsletter_issue', sa.Column('held_up_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('newsletter_issue', sa.Column('held_up_reason', sa.Text(), nullable=False, server_default=''))
    op.add_column('newsletter_issue', sa.Column('held_up_tries', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('newsletter_issue', sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('newsletter_issue', 'held_up_reason', server_default=None)
        op.alter_column('newsletter_issue', 'held_up_tries', server_default=None)


def downgrade():
    with op.batch_alter_table('newsletter_issue', schema=None) as batch_op:
        batch_op.drop_column('next_try_at')
        batch_op.drop_column('held_up_tries')
        batch_op.drop_column('held_up_reason')
        batch_op.drop_column('held_up_since')
    op.drop_table('scheduled_run')
