"""Alembic's environment for Flask-Migrate: the forum's metadata, online and offline runs."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the loggers already made: migrating in-process must not silence the forum's own.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


config.set_main_option(
    "sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
)
target_metadata = current_app.extensions["migrate"].db.metadata


def render_item(type_, obj, autogen_context):
    """Write the forum's UTC timestamp type as the plain column type it stores."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def include_object(obj, name, type_, reflected, compare_to):
    """Leave the PostgreSQL search backend's tables (no models: SQLite has none) out of drift."""
    from forum.search.postgres import TABLES

    return not (type_ == "table" and reflected and compare_to is None and name in TABLES)


def skip_empty_revisions(context, revision, directives):
    """`flask db migrate` writes no revision file when the models did not change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    """Emit the SQL as text (`flask db upgrade --sql`), with no database connection."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    # A caller may hand over its own connection (`forum restore` migrates the restored copy
    # before it replaces the live file); otherwise the app's database.
    given = config.attributes.get("connection")
    if given is not None:
        migrate_on(given)
        return
    with get_engine().connect() as connection:
        migrate_on(connection)


def migrate_on(connection):
    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("process_revision_directives", skip_empty_revisions)
    conf_args.setdefault("include_object", include_object)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds tables (copy, drop, rename); with foreign keys on, dropping a
        # referenced table would cascade or fail. The pragma only works outside a transaction,
        # hence the raw DBAPI connection (pysqlite runs in autocommit mode here).
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
