"""Configuration: defaults here, overridden by FORUM_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from forum.ratelimit_storage import SCHEME


class Config:
    """Defaults for the embedded deployment (SQLite + on-disk Whoosh index)."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # set from DATABASE_URL or instance/forum.db
    DATABASE_URL: str | None = None
    SEARCH_INDEX_DIR: str | None = None  # defaults to <project>/search_index
    SEARCH_BACKEND = "whoosh"  # or "postgresql": full-text search in the database (PostgreSQL only)
    POSTS_PER_PAGE = 20
    THREADS_PER_PAGE = 30
    EDIT_WINDOW_MINUTES = 30
    SITEMAP_URLS_PER_FILE = 50_000  # the sitemap protocol's cap on one file
    MAX_POST_LENGTH = 32_000
    MAX_IMPORT_POST_LENGTH = 100_000
    MAX_CONTENT_LENGTH = 256 * 1024
    # New-member limits: starting values until an admin saves /moderation/settings (then the
    # database row wins). See forum/threads/holds.py.
    HELD_FIRST_POSTS = 1  # a member's posts wait for a moderator until this many are approved
    NEW_MEMBER_POSTS = 3  # a member is new (for the link cap and post interval) below this
    NEW_MEMBER_LINK_CAP = 2  # links and images allowed in a new member's post
    NEW_MEMBER_POST_INTERVAL = 30  # seconds between a new member's posts (others: 5)
    HTTPS = False
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    RATELIMIT_ENABLED = True
    # empty: a SQLite file in instance/ that every worker on the host shares (no server)
    RATELIMIT_STORAGE_URI = ""
    RATELIMIT_STRATEGY = "moving-window"
    # Off: the 429 page sets Retry-After itself, to the wait it names (Flask-Limiter's header
    # rounds its own way and replaced it, so page and header disagreed by a second).
    RATELIMIT_HEADERS_ENABLED = False
    # The JSON API (/api/v1): requests a minute per token or member, and per address anonymously;
    # origins whose pages may read it (CORS, GET only; empty: none, the browser's default).
    API_RATE_LIMIT = "300/minute"
    API_ANONYMOUS_RATE_LIMIT = "60/minute"
    API_CORS_ORIGINS: tuple[str, ...] = ()  # FORUM_API_CORS_ORIGINS='["https://..."]'
    # Where links in e-mail point (workers build them without a request).
    BASE_URL = "http://127.0.0.1:5000"
    # smtp://user:pass@host:25[?starttls=1] or smtps://host:465; empty: .eml files in instance/mail/
    MAIL_URL = ""
    MAIL_FILE_DIR = ""  # where messages go without MAIL_URL (default instance/mail/)
    MAIL_SENDER = "forum@localhost"
    MAIL_SENDER_NAME = "Community Forum"
    RESET_LINK_MAX_AGE = 3600  # seconds a password-reset link works (once)
    CONFIRM_LINK_MAX_AGE = 7 * 86400  # seconds an e-mail confirmation link works
    MAIL_CLAIM_TIMEOUT = 300  # seconds before a message claimed by a vanished worker is resent
    # The task queue (Huey): empty = a SQLite file in instance/ (no server), redis://... at scale,
    # memory:// keeps tasks in the process (tests, which run the jobs themselves).
    TASK_QUEUE_URL = ""
    # Registration defences: seconds a person takes at least to fill the register form (0: no
    # time check), and registrations allowed per IP address in 24 hours (0: no cap).
    REGISTRATION_MIN_SECONDS = 3
    REGISTRATIONS_PER_IP_PER_DAY = 5
    # argon2id parameters (argon2-cffi's RFC 9106 low-memory profile)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    # Spam scoring (forum/spam.py): a post whose spam probability reaches the threshold is held
    # for review, once moderators have decided at least SPAM_MIN_DECISIONS spam and as many
    # not-spam posts (until then nothing is held). Figures behind the defaults: bench/spam.py.
    SPAM_HOLD_THRESHOLD = 0.5
    SPAM_MIN_DECISIONS = 20


def load_config(app, overrides: dict | None = None) -> None:
    """Apply defaults, FORUM_* variables, then explicit overrides (tests), and derive the rest."""
    app.config.from_object(Config)
    app.config.from_prefixed_env("FORUM")
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'forum.db'}"
        )
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(Path(app.root_path).parent / "search_index")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = f"{SCHEME}://{instance / 'ratelimits.sqlite'}"
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance / "secret_key")


def _instance_secret_key(path: Path) -> str:
    """Generate the key once (mode 0600) so every gunicorn worker signs cookies alike."""
    if not path.exists():
        # Written whole to a private temp file, then linked into place: a worker racing us
        # either wins the link or reads the finished file, never a half-written one.
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
