"""Named rows (boards, ranks, badges): a name is unique ignoring case, a board's slug is free."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.errors import InvalidInput
from forum.text import slugify


def name_taken(session: Session, model, name: str, own_id: int | None) -> bool:
    """Whether another row of model already has this name, ignoring case."""
    clash = session.scalar(select(model.id).where(func.lower(model.name) == name.lower()))
    return clash is not None and clash != own_id


def row_to_save(session: Session, model, row_id: int | None, name: str) -> tuple:
    """The row a save writes and its name, whitespace collapsed: the existing row, or a new one
    (row_id None) that the caller adds once its required columns are set. The name must fit the
    column and not be taken."""
    what = model.__name__.lower()
    max_length = model.__table__.c.name.type.length
    name = " ".join(name.split())
    if not name or len(name) > max_length:
        raise InvalidInput(f"A {what} needs a name of at most {max_length} characters.")
    if name_taken(session, model, name, row_id):
        raise InvalidInput(f"Another {what} already has that name.")
    row = model() if row_id is None else session.get(model, row_id)
    if row is None:
        raise InvalidInput(f"That {what} does not exist.")
    return row, name


def free_slug(session: Session, model, name: str) -> str:
    """The name's slug, numbered when another row has it ("c", "c-2" for C and C++)."""
    base = slugify(name, fallback="board")
    slug, n = base, 1
    while session.scalar(select(model.id).where(model.slug == slug)) is not None:
        n += 1
        slug = f"{base[: 80 - len(str(n)) - 1]}-{n}"
    return slug
