"""Appraisal on the web: rated units, rounds, criterion scores, point history, evidence

Revision ID: 0009_h_appraisal
Revises: 0008
Create Date: 2026-12-03 13:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_h_appraisal"
down_revision = "0009_h_email"
branch_labels = None
depends_on = None


def _points():
    return sa.Numeric(7, 3, asdecimal=False)


def upgrade() -> None:
    op.create_table(
        "rated_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("block", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rated_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_rated_unit_code")),
    )
    op.create_index(op.f("ix_rated_unit_block"), "rated_unit", ["block"], unique=False)
    op.create_table(
        "appraisal_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("block", sa.String(length=64), nullable=False),
        sa.Column("scheme", sa.String(length=200), nullable=False),
        sa.Column("points_step", _points(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("self_deadline", sa.DateTime(), nullable=False),
        sa.Column("answer_opens_at", sa.DateTime(), nullable=True),
        sa.Column("answer_closes_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finalised_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'published', 'final')", name=op.f("ck_appraisal_round_status_known")
        ),
        sa.CheckConstraint("points_step > 0", name=op.f("ck_appraisal_round_step_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal_round")),
        sa.UniqueConstraint("year", "block", name=op.f("uq_appraisal_round_year")),
    )
    op.create_table(
        "appraisal_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by", sa.String(length=254), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=254), nullable=True),
        sa.Column("appraised_at", sa.DateTime(), nullable=True),
        sa.Column("answer_considered", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["appraisal_round.id"],
            name=op.f("fk_appraisal_return_round_id_appraisal_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["rated_unit.id"],
            name=op.f("fk_appraisal_return_unit_id_rated_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal_return")),
        sa.UniqueConstraint("round_id", "unit_id", name=op.f("uq_appraisal_return_round_id")),
    )
    op.create_table(
        "criterion_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("self_points", _points(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("appraised_points", _points(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint("self_points >= 0", name=op.f("ck_criterion_score_self_not_negative")),
        sa.CheckConstraint(
            "appraised_points >= 0", name=op.f("ck_criterion_score_appraised_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["appraisal_return.id"],
            name=op.f("fk_criterion_score_return_id_appraisal_return"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criterion_score")),
        sa.UniqueConstraint("return_id", "criterion", name=op.f("uq_criterion_score_return_id")),
    )
    op.create_index(
        op.f("ix_criterion_score_return_id"), "criterion_score", ["return_id"], unique=False
    )
    op.create_table(
        "point_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("before", _points(), nullable=True),
        sa.Column("after", _points(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('self', 'appraised')", name=op.f("ck_point_change_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["criterion_score.id"],
            name=op.f("fk_point_change_score_id_criterion_score"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_change")),
    )
    op.create_index(op.f("ix_point_change_score_id"), "point_change", ["score_id"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("file_key", sa.String(length=300), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("added_by", sa.String(length=254), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("stage IN ('self', 'answer')", name=op.f("ck_evidence_stage_known")),
        sa.CheckConstraint(
            "(file_key IS NOT NULL AND url IS NULL) OR (file_key IS NULL AND url IS NOT NULL)",
            name=op.f("ck_evidence_file_or_link"),
        ),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["criterion_score.id"],
            name=op.f("fk_evidence_score_id_criterion_score"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_score_id"), "evidence", ["score_id"], unique=False)
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("block", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_app_user_unit_id_rated_unit"),
            "rated_unit",
            ["unit_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_app_user_unit_id_rated_unit"), type_="foreignkey")
        batch_op.drop_column("block")
        batch_op.drop_column("unit_id")
    op.drop_index(op.f("ix_evidence_score_id"), table_name="evidence")
    op.drop_table("evidence")
    op.drop_index(op.f("ix_point_change_score_id"), table_name="point_change")
    op.drop_table("point_change")
    op.drop_index(op.f("ix_criterion_score_return_id"), table_name="criterion_score")
    op.drop_table("criterion_score")
    op.drop_table("appraisal_return")
    op.drop_table("appraisal_round")
    op.drop_index(op.f("ix_rated_unit_block"), table_name="rated_unit")
    op.drop_table("rated_unit")
