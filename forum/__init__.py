"""Community Q&A forum engine: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI. No I/O beyond instance/."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    from forum.config import load_config

    load_config(app, config)

    from forum import search, tasks, timezones, web
    from forum.extensions import csrf, db, limiter, login_manager, migrate
    from forum.threads import blocks

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    web.init_app(app)
    search.init_app(app)
    blocks.init_app(app)
    timezones.init_app(app)
    tasks.init_app(app)

    from forum.api import openapi
    from forum.api import views as api
    from forum.auth import views as auth
    from forum.feeds import views as feeds
    from forum.members import views as members
    from forum.moderation import views as moderation
    from forum.notifications import views as notifications
    from forum.search import views as search_views
    from forum.threads import views as threads

    for area in (threads, auth, members, moderation, search_views, notifications, feeds):
        app.register_blueprint(area.bp)
    openapi.init_app(app, api.bp)
    app.register_blueprint(api.pages)

    from forum.cli import forum_cli
    from forum.search.cli import search_cli
    from forum.tasks import jobs_cli

    app.cli.add_command(forum_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(jobs_cli)
    return app
