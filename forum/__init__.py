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

    from forum import search, tasks, web
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
    tasks.init_app(app)

    from forum.auth import bp as auth_bp
    from forum.members import bp as members_bp
    from forum.moderation import bp as moderation_bp
    from forum.notifications.views import bp as notifications_bp
    from forum.search.views import bp as search_bp
    from forum.threads import bp as threads_bp

    app.register_blueprint(threads_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(notifications_bp)

    from forum.cli import forum_cli
    from forum.search.cli import search_cli
    from forum.tasks import jobs_cli

    app.cli.add_command(forum_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(jobs_cli)
    return app
