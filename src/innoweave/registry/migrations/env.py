"""Alembic environment: runs the registry migrations on the engine given by the caller."""

from alembic import context

from innoweave.registry.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic command line
    from innoweave.registry.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
