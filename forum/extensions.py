"""Flask extensions, created unbound and bound to the app in create_app()."""

import math
import time

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic can name and drop constraints."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def member_or_ip() -> str:
    """Rate-limit key: the member when logged in, else the client address."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return f"ip:{request.remote_addr}"


def retry_after() -> int:
    """Seconds until the limit just exceeded lets a request through (the Retry-After value)."""
    current = limiter.current_limit
    # window[0] is when the oldest counted hit leaves the window (reset_at adds a second to it)
    return max(1, math.ceil(current.window[0] - time.time())) if current else 60


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=member_or_ip)
