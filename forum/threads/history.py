"""A post's edit history: every edit keeps the version it replaced, for the author and moderators.

The current version lives on the post; post_revisions holds the ones before it, numbered from 1
(the post as first written). Removing a post removes nothing here, so moderators keep its past.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from forum import permissions
from forum.errors import NotAllowed
from forum.extensions import db
from forum.models import Member, Post, PostRevision

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Change:
    """A run of text in a version, as it compares with the version before it."""

    kind: str  # "same", "added" or "removed"
    text: str


@dataclass(frozen=True)
class Version:
    number: int
    subject: str
    body_source: str
    written_by: str
    written_at: datetime
    is_current: bool
    changes: list[Change]  # against the version before (all "added" for the first)
    subject_before: str | None  # the previous subject, when this version changed it


def keep_revision(session: Session, post: Post) -> None:
    """Keep the version an edit is about to replace (the caller holds the post's row lock)."""
    kept = session.scalar(
        select(func.count()).select_from(PostRevision).where(PostRevision.post_id == post.id)
    )
    session.add(
        PostRevision(
            post_id=post.id,
            number=kept + 1,
            subject=post.subject,
            body_source=post.body_source,
            written_by_id=post.edited_by_id or post.author_id,
            written_at=post.edited_at or post.created_at,
        )
    )


def check_can_see_history(viewer: Member, post: Post) -> None:
    if not permissions.can_see_history(viewer, post):
        raise NotAllowed("Only the post's author and moderators can see its edit history.")


def word_changes(before: str, after: str) -> list[Change]:
    """What changed between two texts, word by word (whitespace kept, so lines stay lines)."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes.append(Change("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            changes.append(Change("removed", "".join(old[i1:i2])))
        if j2 > j1:
            changes.append(Change("added", "".join(new[j1:j2])))
    return changes


def post_history(viewer: Member, post: Post) -> list[Version]:
    """Every version of the post, newest first, each with what it changed."""
    check_can_see_history(viewer, post)
    revisions = db.session.scalars(
        select(PostRevision)
        .options(joinedload(PostRevision.written_by))
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.number)
    ).all()
    current_by = post.edited_by or post.author
    rows = [
        (r.number, r.subject, r.body_source, r.written_by, r.written_at, False) for r in revisions
    ]
    rows.append(
        (
            len(revisions) + 1,
            post.subject,
            post.body_source,
            current_by,
            post.edited_at or post.created_at,
            True,
        )
    )
    versions, before = [], None
    for number, subject, body, writer, written_at, is_current in rows:
        versions.append(
            Version(
                number=number,
                subject=subject,
                body_source=body,
                written_by=writer.display_name if writer else "a former member",
                written_at=written_at,
                is_current=is_current,
                changes=word_changes(before[2] if before else "", body),
                subject_before=before[1] if before and before[1] != subject else None,
            )
        )
        before = (number, subject, body)
    return versions[::-1]
