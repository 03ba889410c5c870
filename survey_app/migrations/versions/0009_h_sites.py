"""Site links (an open link per one-stop shop or district) and test responses

Revision ID: 0009_h_sites
Revises: 0008
Create Date: 2026-12-03 13:45:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_h_sites'
down_revision = '0009_h_paper'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_code', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('site_value', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_site_link_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_link')),
    sa.UniqueConstraint('code', name=op.f('uq_site_link_code'))
    )
    with op.batch_alter_table('site_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_link_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('site_link_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_response_site_link_id'), ['site_link_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_response_site_link_id_site_link'), 'site_link', ['site_link_id'], ['id'],
            ondelete='SET NULL')


def downgrade() -> None:
    # Test responses never counted; they go with the column that marks them.
    op.execute("DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE test)")
    op.execute("DELETE FROM response WHERE test")
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_site_link_id_site_link'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_response_site_link_id'))
        batch_op.drop_column('site_link_id')
        batch_op.drop_column('test')

    with op.batch_alter_table('site_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_link_wave_id'))
    op.drop_table('site_link')
