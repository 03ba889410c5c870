"""Appraisers assigned a set of units and blocks; rounds reopened with a reason

Revision ID: 0010_h_appraisal3
Revises: 0009_h_appraisal
Create Date: 2026-12-03 16:45:00.000000

Each appraiser's one unit (``app_user.unit_id``) or one block (``app_user.block``) becomes a row
of ``appraiser_scope``; ``app_user.unit_id`` is then an officer's only and ``app_user.block``
goes. The column is dropped with ALTER TABLE, not a batch copy of ``app_user``: on SQLite a
batch drops the old table, which with foreign keys on would fire the ON DELETE actions of every
table that refers to users (the audit log's user ids, the scopes just made). The migrations now
run with foreign keys off on SQLite (survey_app.schema.migrating), so a batch would be safe too.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_h_appraisal3"
down_revision = "0009_h_appraisal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appraiser_scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("block", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(unit_id IS NOT NULL AND block IS NULL) OR (unit_id IS NULL AND block IS NOT NULL)",
            name=op.f("ck_appraiser_scope_unit_or_block"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_appraiser_scope_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["rated_unit.id"],
            name=op.f("fk_appraiser_scope_unit_id_rated_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraiser_scope")),
        sa.UniqueConstraint("user_id", "unit_id", name="uq_appraiser_scope_user_unit"),
        sa.UniqueConstraint("user_id", "block", name="uq_appraiser_scope_user_block"),
    )
    op.create_index(
        op.f("ix_appraiser_scope_user_id"), "appraiser_scope", ["user_id"], unique=False
    )
    # the assignments of today: a unit won over a block, so each appraiser has one or none
    op.execute(
        "INSERT INTO appraiser_scope (user_id, unit_id) SELECT id, unit_id FROM app_user "
        "WHERE role = 'appraiser' AND unit_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO appraiser_scope (user_id, block) SELECT id, block FROM app_user "
        "WHERE role = 'appraiser' AND unit_id IS NULL AND block IS NOT NULL AND block <> ''"
    )
    op.execute("UPDATE app_user SET unit_id = NULL WHERE role = 'appraiser'")
    op.drop_column("app_user", "block")
    op.add_column("appraisal_round", sa.Column("reopened_at", sa.DateTime(), nullable=True))
    op.add_column("appraisal_round", sa.Column("reopen_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("appraisal_round", "reopen_reason")
    op.drop_column("appraisal_round", "reopened_at")
    op.add_column("app_user", sa.Column("block", sa.String(length=64), nullable=True))
    # one unit or one block per appraiser again: the first unit given, else the first block
    op.execute(
        "UPDATE app_user SET unit_id = (SELECT s.unit_id FROM appraiser_scope s "
        "WHERE s.user_id = app_user.id AND s.unit_id IS NOT NULL ORDER BY s.id LIMIT 1) "
        "WHERE role = 'appraiser'"
    )
    op.execute(
        "UPDATE app_user SET block = (SELECT s.block FROM appraiser_scope s "
        "WHERE s.user_id = app_user.id AND s.block IS NOT NULL ORDER BY s.id LIMIT 1) "
        "WHERE role = 'appraiser' AND unit_id IS NULL"
    )
    op.drop_index(op.f("ix_appraiser_scope_user_id"), table_name="appraiser_scope")
    op.drop_table("appraiser_scope")
