"""anonymous concerns: a daily count instead of an audit event each

Revision ID: c0f1a2b3d4e5
Revises: 5b1e0c3a9d47
Create Date: 2026-12-04 18:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0f1a2b3d4e5'
down_revision = '5b1e0c3a9d47'
branch_labels = None
depends_on = None

KINDS = ('compliment', 'suggestion', 'concern', 'complaint', 'speak_up')


def upgrade():
    op.create_table(
        'feedback_anonymous_count',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='submission_kind', native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'],
                                name=op.f('fk_feedback_anonymous_count_service_id_service')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_anonymous_count')),
        sa.UniqueConstraint('service_id', 'day', 'kind',
                            name=op.f('uq_feedback_anonymous_count_service_id_day_kind')),
    )
    # The events kept so far become counts, and go: each sat among other people's events.
    op.execute("""
        INSERT INTO feedback_anonymous_count (service_id, day, kind, count)
        SELECT s.service_id, DATE(s.received_at), s.kind, COUNT(*)
        FROM feedback_submission s WHERE s.anonymous GROUP BY s.service_id, DATE(s.received_at),
        s.kind
    """)


def downgrade():
    op.drop_table('feedback_anonymous_count')
