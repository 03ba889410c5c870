"""E-mail invitations and reminders: sendings, deliveries, sealed links, opt-outs

Revision ID: 0009_h_email
Revises: 0008
Create Date: 2026-12-03 14:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_h_email'
down_revision = '0009_h_sites'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.JSON(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('per_minute', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('job_id', sa.BigInteger(), nullable=True),
    sa.Column('beat_at', sa.DateTime(), nullable=True),
    sa.Column('base_url', sa.String(length=300), nullable=False),
    sa.CheckConstraint("kind IN ('invitation', 'reminder')", name=op.f('ck_mailing_kind_known')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'done')", name=op.f('ck_mailing_status_known')),
    sa.CheckConstraint('per_minute BETWEEN 1 AND 600', name=op.f('ck_mailing_rate_in_range')),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_mailing_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing'))
    )
    op.create_index(op.f('ix_mailing_wave_id'), 'mailing', ['wave_id'], unique=False)
    op.create_table('mail_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'skipped')", name=op.f('ck_mail_delivery_status_known')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_mail_delivery_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mailing_id'], ['mailing.id'], name=op.f('fk_mail_delivery_mailing_id_mailing'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_delivery'))
    )
    op.create_index(op.f('ix_mail_delivery_invitation_id'), 'mail_delivery', ['invitation_id'], unique=False)
    op.create_index(op.f('ix_mail_delivery_mailing_id'), 'mail_delivery', ['mailing_id'], unique=False)
    op.create_table('mail_link',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_mail_link_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', name=op.f('pk_mail_link'))
    )
    op.create_table('mail_opt_out',
    sa.Column('invitee_id', sa.Integer(), nullable=False),
    sa.Column('opted_out_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['invitee_id'], ['invitee.id'], name=op.f('fk_mail_opt_out_invitee_id_invitee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitee_id', name=op.f('pk_mail_opt_out'))
    )


def downgrade() -> None:
    op.drop_table('mail_opt_out')
    op.drop_table('mail_link')
    op.drop_index(op.f('ix_mail_delivery_mailing_id'), table_name='mail_delivery')
    op.drop_index(op.f('ix_mail_delivery_invitation_id'), table_name='mail_delivery')
    op.drop_table('mail_delivery')
    op.drop_index(op.f('ix_mailing_wave_id'), table_name='mailing')
    op.drop_table('mailing')
