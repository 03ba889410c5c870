"""Users, audit log, invitees, quotas; response status and quality fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:17:00.702014
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'statistician', 'monitor')", name=op.f('ck_app_user_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('email', name=op.f('uq_app_user_email'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_audit_event_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('invitee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('invitee_group', sa.String(length=100), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_invitee_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitee'))
    )
    with op.batch_alter_table('invitee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitee_wave_id'), ['wave_id'], unique=False)

    op.create_table('quota',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('when_full', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("when_full IN ('screen_out', 'flag')", name=op.f('ck_quota_when_full_known')),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_quota_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota')),
    sa.UniqueConstraint('wave_id', 'questionnaire_code', 'name', name=op.f('uq_quota_wave_id'))
    )
    op.create_table('quota_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quota_id', sa.Integer(), nullable=False),
    sa.Column('cell_key', sa.String(length=400), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Integer(), nullable=False),
    sa.Column('over_target', sa.Integer(), nullable=False),
    sa.CheckConstraint('complete <= target', name=op.f('ck_quota_cell_complete_within_target')),
    sa.CheckConstraint('complete >= 0', name=op.f('ck_quota_cell_complete_not_negative')),
    sa.CheckConstraint('target >= 0', name=op.f('ck_quota_cell_target_not_negative')),
    sa.ForeignKeyConstraint(['quota_id'], ['quota.id'], name=op.f('fk_quota_cell_quota_id_quota'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_cell')),
    sa.UniqueConstraint('quota_id', 'cell_key', name=op.f('uq_quota_cell_quota_id'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('page_reached', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitation_invitee_id'), ['invitee_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitation_invitee_id_invitee'), 'invitee', ['invitee_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quota_cell_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('over_quota', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('duration_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('straightlined_grids', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint(batch_op.f('ck_response_status_known'), type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('in_progress', 'complete', 'screened_out')")
        batch_op.create_index(batch_op.f('ix_response_quota_cell_id'), ['quota_cell_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_response_quota_cell_id_quota_cell'), 'quota_cell', ['quota_cell_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    op.execute("UPDATE response SET status = 'in_progress' WHERE status = 'screened_out'")
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_response_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', "status IN ('in_progress', 'complete')")
        batch_op.drop_constraint(batch_op.f('fk_response_quota_cell_id_quota_cell'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_response_quota_cell_id'))
        batch_op.drop_column('straightlined_grids')
        batch_op.drop_column('duration_seconds')
        batch_op.drop_column('over_quota')
        batch_op.drop_column('quota_cell_id')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitation_invitee_id_invitee'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitation_invitee_id'))
        batch_op.drop_column('page_reached')
        batch_op.drop_column('invitee_id')

    op.drop_table('quota_cell')
    op.drop_table('quota')
    with op.batch_alter_table('invitee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitee_wave_id'))

    op.drop_table('invitee')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('app_user')
