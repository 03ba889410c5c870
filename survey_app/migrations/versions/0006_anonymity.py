"""Anonymity of invited responses; identities with a lifetime

Invitations keep days only and no page reached, and never go "in progress"; responses to
invited questionnaires get keys that owe nothing to a token, and a flag for sealing; invitees'
identities can be erased; waves say until when identities are kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 20:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _random_key(dialect: str) -> str:
    if dialect == 'postgresql':
        return "md5(random()::text || id::text) || md5(random()::text || clock_timestamp()::text)"
    return "lower(hex(randomblob(32)))"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("UPDATE invitation SET status = 'opened' WHERE status = 'in_progress'")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_on', sa.Date(), nullable=True))
    day = "CAST(issued_at AS date)" if dialect == 'postgresql' else "date(issued_at)"
    op.execute(f"UPDATE invitation SET issued_on = {day}")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.alter_column('issued_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('issued_at')
        batch_op.drop_column('page_reached')
        batch_op.drop_constraint(batch_op.f('ck_invitation_status_known'), type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('issued', 'opened', 'complete', 'revoked')")

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Keys made from tokens by earlier versions: replaced, so a token found in an old log opens
    # nothing. (Invitees in the middle of a questionnaire start it again.)
    op.execute(
        f"UPDATE response SET key_hash = {_random_key(dialect)} WHERE questionnaire_version_id IN "
        "(SELECT id FROM questionnaire_version WHERE access = 'invitation')"
    )

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identities_kept_until', sa.Date(), nullable=True))

    with op.batch_alter_table('invitee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_on', sa.Date(), nullable=True))
        batch_op.alter_column('name', existing_type=sa.String(length=200), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE invitee SET name = '' WHERE name IS NULL")
    with op.batch_alter_table('invitee', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column('erased_on')

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('identities_kept_until')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('sealed')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('page_reached', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_invitation_status_known'), type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('issued', 'opened', 'in_progress', 'complete', 'revoked')")
    op.execute("UPDATE invitation SET issued_at = issued_on")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.alter_column('issued_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.drop_column('issued_on')
