"""one published tour at a time

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 01:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('uq_tour_one_published', 'tour', ['status'], unique=True,
                    postgresql_where=sa.text("status = 'published'"), sqlite_where=sa.text("status = 'published'"))


def downgrade():
    op.drop_index('uq_tour_one_published', table_name='tour')
