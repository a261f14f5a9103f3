"""paper batches record their spoilt and blank papers

Revision ID: d1e2a3b4c5f6
Revises: c3a1d0b0a201
Create Date: 2026-12-04 18:50:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'd1e2a3b4c5f6'
down_revision = 'c3a1d0b0a201'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table in batch mode and reflects the person table on the way, whose
    # expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _upgrade()


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _downgrade()


def _upgrade():
    with op.batch_alter_table('election_paper_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spoilt_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('blank_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(
            'spoilt_and_blank_within_batch',
            'spoilt_count >= 0 AND blank_count >= 0 '
            'AND spoilt_count + blank_count <= ballot_count')


def _downgrade():
    with op.batch_alter_table('election_paper_batch', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_election_paper_batch_spoilt_and_blank_within_batch'),
                                 type_='check')
        batch_op.drop_column('blank_count')
        batch_op.drop_column('spoilt_count')
