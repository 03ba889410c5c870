"""Runs on any host: their files in the database, a heartbeat, and the job queue

Weighting runs keep their inputs and results as rows of stored_file (every host reads them);
a run records how many times a worker started it, when its worker last beat, and its job in
the queue. On PostgreSQL the job queue's own tables (procrastinate's schema, of the version
pyproject.toml pins) are created here too; SQLite runs its runs in the app's process.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_file',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_file'))
    )
    with op.batch_alter_table('analysis_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('job_id', sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        from procrastinate.schema import SchemaManager

        # psycopg's own execute, given no parameters: the schema's % signs stay as written
        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_jobs, procrastinate_workers CASCADE"
        )
        op.execute(
            "DO $$ DECLARE r record; BEGIN "
            "FOR r IN SELECT p.oid::regprocedure AS routine FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%%' LOOP "
            "EXECUTE 'DROP ROUTINE ' || r.routine || ' CASCADE'; END LOOP; END $$"
        )
        op.execute(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
            "procrastinate_job_status CASCADE"
        )
    with op.batch_alter_table('analysis_run', schema=None) as batch_op:
        batch_op.drop_column('job_id')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('attempts')
    op.drop_table('stored_file')
