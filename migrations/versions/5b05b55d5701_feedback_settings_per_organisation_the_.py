"""feedback settings per organisation: the ombudsman route

Revision ID: 5b05b55d5701
Revises: b43c055cf1e4
Create Date: 2026-12-04 18:52:56.523354

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b05b55d5701'
down_revision = 'b43c055cf1e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('escalation_route', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_feedback_settings_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['person.id'], name=op.f('fk_feedback_settings_updated_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_settings')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_feedback_settings_organisation_id'))
    )


def downgrade():
    op.drop_table('feedback_settings')
