"""people in name order by an index: the first page of a 60,000-person roll without a sort

Revision ID: a7c3f19d2b64
Revises: a7c3e9f1d2b4
Create Date: 2026-12-07 08:15:00.000000

"""
from alembic import op


revision = 'a7c3f19d2b64'
down_revision = 'a7c3e9f1d2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_person_full_name_id', 'person', ['full_name', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_person_full_name_id', table_name='person')
