"""A sending counts its resumes without progress, so the workers stop resuming one that fails
the same way each time

Revision ID: 0011_mail_idle_resumes
Revises: 0010_h_appraisal3
Create Date: 2026-12-03 20:00:00.000000

A column added and dropped with ALTER TABLE on both databases (no copy of the table on SQLite).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_mail_idle_resumes"
down_revision = "0010_h_appraisal3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "mailing",
        sa.Column("idle_resumes", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("mailing", "idle_resumes")
