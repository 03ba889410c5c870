"""Paper entry and invalid responses: response mode, entered by, invalidated with a reason

Revision ID: 0009_h_paper
Revises: 0008
Create Date: 2026-12-03 13:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_h_paper'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('mode', sa.String(length=8), server_default='web', nullable=False)
        )
        batch_op.add_column(sa.Column('entered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('invalidated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('invalid_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_response_entered_by_id'), ['entered_by_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_response_entered_by_id_app_user'),
            'app_user',
            ['entered_by_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_check_constraint('mode_known', "mode IN ('web', 'paper')")
        batch_op.create_check_constraint(
            'entered_by_only_on_paper', "mode = 'paper' OR entered_by_id IS NULL"
        )
        batch_op.create_check_constraint(
            'invalid_has_reason', "(invalidated_at IS NULL) = (invalid_reason IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_response_invalid_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_response_entered_by_only_on_paper'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_response_mode_known'), type_='check')
        batch_op.drop_constraint(
            batch_op.f('fk_response_entered_by_id_app_user'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_response_entered_by_id'))
        batch_op.drop_column('invalid_reason')
        batch_op.drop_column('invalidated_at')
        batch_op.drop_column('entered_by_id')
        batch_op.drop_column('mode')
