"""elections choose the order of names on the ballot: alphabetical or shuffled

Revision ID: e2f3a4b5c6d7
Revises: d1e2a3b4c5f6
Create Date: 2026-12-04 19:00:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'e2f3a4b5c6d7'
down_revision = 'd1e2a3b4c5f6'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table in batch mode and reflects the person table on the way, whose
    # expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table('election', schema=None) as batch_op:
            batch_op.add_column(sa.Column(
                'ballot_order',
                sa.Enum('alphabetical', 'shuffled', name='election_ballot_order',
                        native_enum=False, create_constraint=True, length=20),
                server_default='alphabetical', nullable=False))


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table('election', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_election_election_ballot_order'), type_='check')
            batch_op.drop_column('ballot_order')
