"""Tables the search index relies on: the index outbox and the log of searches that found nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from forum.database import UTCDateTime, utcnow
from forum.extensions import db


class IndexOutbox(db.Model):
    """A row says "post N changed": written in the same transaction as the change, deleted once the index has it.

    The row names no action: the worker reads the post's state when it applies the row and
    indexes it, or removes it if it is gone, removed or hidden, so rows can be applied in any order.
    """

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        index=True
    )  # no foreign key: a deleted post must still leave
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchMiss(db.Model):
    """A search that found nothing, counted per normalised query, for moderators to read."""

    __tablename__ = "search_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(255), unique=True)
    count: Mapped[int] = mapped_column(default=1)
    last_searched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
