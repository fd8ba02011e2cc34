"""Rows by the keys URLs carry (a member's handle, a board's slug), and the board list every area shows."""

from __future__ import annotations

from sqlalchemy import select

from forum.database import page_of_rows
from forum.extensions import db
from forum.models import Board, BoardOldSlug, Member


def member_by_handle(handle: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.handle == handle.lower()))


def board_by_slug(slug: str) -> Board | None:
    return db.session.scalar(select(Board).where(Board.slug == slug))


def board_once_at(slug: str) -> Board | None:
    """The board that had this slug before an admin changed it (its old links redirect)."""
    return db.session.scalar(
        select(Board)
        .join(BoardOldSlug, BoardOldSlug.board_id == Board.id)
        .where(BoardOldSlug.slug == slug)
    )


def boards_page(page: int):
    """The admins' list of boards, in front-page order, a page at a time."""
    return page_of_rows(select(Board).order_by(Board.position, Board.name, Board.id), page)


def boards_in_order() -> list[Board]:
    """Boards as the front page orders them (position, then name)."""
    return list(db.session.scalars(select(Board).order_by(Board.position, Board.name)))
