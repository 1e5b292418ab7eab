"""no double booking: tour revision; on PostgreSQL an exclusion constraint over a visit's half-day slots

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tour', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
    if op.get_bind().dialect.name == "postgresql":
        from app.models import VISIT_SLOTS_DDL
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for statement in VISIT_SLOTS_DDL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE visit DROP CONSTRAINT ex_visit_no_double_booking")
        op.execute("ALTER TABLE visit DROP COLUMN slots")
    with op.batch_alter_table('tour', schema=None) as batch_op:
        batch_op.drop_column('revision')
