"""meetings: the chair's wording, other business, pictures, minutes attachments, named guests,
calendar sequence, and when actions closed

Revision ID: b2c0d0e0f015
Revises: 28339e2683ab
Create Date: 2026-12-04 17:42:35.735664

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2c0d0e0f015'
down_revision = '28339e2683ab'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds tables in batch mode and reflects the person table on the way, whose
    # expression index it cannot read; the index itself is untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        _upgrade()


def _upgrade():
    op.create_table('minutes_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pdf', 'picture', name='attachment_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_minutes_attachment_created_by_id_person')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_minutes_attachment_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_attachment'))
    )
    with op.batch_alter_table('minutes_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_attachment_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_title', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('original_description', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('other_business', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('picture', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('picture_alt', sa.String(length=300), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('has_picture', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guest_names', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False,
                                      server_default='0'))

    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE meeting_action SET closed_at = done_at WHERE status = 'done'")


def downgrade():
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('calendar_sequence')
        batch_op.drop_column('guest_names')

    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_column('has_picture')
        batch_op.drop_column('picture_alt')
        batch_op.drop_column('picture')
        batch_op.drop_column('other_business')
        batch_op.drop_column('original_description')
        batch_op.drop_column('original_title')

    with op.batch_alter_table('minutes_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_attachment_meeting_id'))

    op.drop_table('minutes_attachment')
