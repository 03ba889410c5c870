"""Index for the monitoring dashboard: complete responses by duration, day and straight-lining

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:40:00.000000

One covering index over the columns that change only when a response completes (status,
duration_seconds, completed_at, straightlined_grids), so the dashboard's count, median, speeders
and per-day figures are index-only scans, while what saving a page updates (page_index,
furthest_page, updated_at) stays outside every index.
"""

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(
            'ix_response_dashboard',
            ['wave_id', 'questionnaire_code', 'status', 'duration_seconds', 'completed_at',
             'straightlined_grids'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_dashboard')
