"""Boards: the top-level sections that hold threads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db

if TYPE_CHECKING:
    from forum.models.thread import Post


class Board(db.Model):
    """A board; its counters and latest post are kept by the posting services."""

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    thread_count: Mapped[int] = mapped_column(default=0)
    post_count: Mapped[int] = mapped_column(default=0)
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )

    last_post: Mapped[Post | None] = relationship(foreign_keys=[last_post_id])


class BoardOldSlug(db.Model):
    """A slug a board had before an admin changed it: its old links redirect to the board."""

    __tablename__ = "board_old_slugs"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
