"""organisation data version: bumped by every write to an organisation's rows

Revision ID: c8d2e4f6a913
Revises: a7c3f19d2b64
Create Date: 2026-12-07 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = 'c8d2e4f6a913'
down_revision = 'a7c3f19d2b64'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later): rebuilding the table, as batch mode does,
    # would drop a table other tables point to.
    op.drop_column('organisation', 'data_version')
