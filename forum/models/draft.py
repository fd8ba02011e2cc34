"""Drafts: a member's unfinished reply or new thread, kept on the server until posted or discarded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.database import UTCDateTime, utcnow
from forum.extensions import db


class Draft(db.Model):
    """One per member per thread (a reply), or per member per board (a new thread, with its
    subject). Only its member ever reads it."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("member_id", "thread_id"),
        UniqueConstraint("member_id", "board_id"),
        CheckConstraint("(thread_id IS NULL) <> (board_id IS NULL)", name="thread_or_board"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
