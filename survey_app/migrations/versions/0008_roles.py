"""Roles for paper entry and appraisal: interviewer, officer, appraiser

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:30:00.000000
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD = "role IN ('admin', 'statistician', 'monitor')"
NEW = "role IN ('admin', 'statistician', 'monitor', 'interviewer', 'officer', 'appraiser')"


def _check(condition: str) -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_app_user_role_known'), type_='check')
        batch_op.create_check_constraint('role_known', condition)


def upgrade() -> None:
    _check(NEW)


def downgrade() -> None:
    # what the audit log's foreign key (ON DELETE SET NULL) would do, done here: migrations run
    # with foreign keys off on SQLite (survey_app.schema.migrating)
    op.execute(
        "UPDATE audit_event SET user_id = NULL WHERE user_id IN "
        "(SELECT id FROM app_user WHERE role IN ('interviewer', 'officer', 'appraiser'))"
    )
    op.execute("DELETE FROM app_user WHERE role IN ('interviewer', 'officer', 'appraiser')")
    _check(OLD)
