"""Alembic environment: the connection comes from the app (see survey_app.schema)."""

from alembic import context

from survey_app.db import make_engine
from survey_app.models import Base
from survey_app.schema import include_name, migrating

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # the alembic command run by hand: the same connection settings and checks as the app's
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with migrating(engine) as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
