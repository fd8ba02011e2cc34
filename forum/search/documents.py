"""What the index holds for a post: built from the database, pure apart from the one query that loads it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forum.markup import plain_text
from forum.models import Post, Thread


@dataclass(frozen=True)
class PostDocument:
    """One searchable post. No kudos or counters: a kudos never rewrites a document."""

    post_id: int
    thread_id: int
    board: str  # slug, for board:name
    board_name: str
    author: str  # handle, for author:handle
    author_name: str
    subject: str
    body: str  # plain text, quoted replies left out
    posted_at: datetime
    position: int
    solved: bool

    @property
    def digest(self) -> str:
        """A fingerprint of everything indexed, so `search check` can tell a stale document."""
        text = "\x1f".join(str(value) for value in asdict(self).values())
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def is_searchable(post: Post) -> bool:
    return not post.is_removed and not post.thread.is_hidden


def build_document(post: Post) -> PostDocument:
    thread = post.thread
    return PostDocument(
        post_id=post.id,
        thread_id=thread.id,
        board=thread.board.slug,
        board_name=thread.board.name,
        author=post.author.handle,
        author_name=post.author.display_name,
        subject=post.subject,
        body=plain_text(post.body_source),
        posted_at=post.created_at,
        position=post.position,
        solved=thread.solution_post_id is not None,
    )


def _with_relations(query):
    return query.options(
        joinedload(Post.thread).joinedload(Thread.board),
        joinedload(Post.author),
    )


def load_documents(session: Session, post_ids: Iterable[int]) -> dict[int, PostDocument | None]:
    """Current documents for these posts; None for a post that is gone, removed or hidden."""
    wanted = set(post_ids)
    found: dict[int, PostDocument | None] = dict.fromkeys(wanted)
    posts = session.scalars(_with_relations(select(Post).where(Post.id.in_(wanted)))).unique()
    for post in posts:
        found[post.id] = build_document(post) if is_searchable(post) else None
    return found


def iter_documents(session: Session, batch_size: int = 500) -> Iterator[PostDocument]:
    """Every searchable post, in id order, a batch at a time (keyset, not OFFSET)."""
    last_id = 0
    while True:
        posts = (
            session.scalars(
                _with_relations(
                    select(Post)
                    .join(Post.thread)
                    .where(
                        Post.id > last_id, Post.is_removed.is_(False), Thread.is_hidden.is_(False)
                    )
                    .order_by(Post.id)
                    .limit(batch_size)
                )
            )
            .unique()
            .all()
        )
        if not posts:
            return
        for post in posts:
            yield build_document(post)
        last_id = posts[-1].id
        session.expunge_all()


def differences(
    session: Session, indexed: dict[int, str], progress: Callable[[int], None]
) -> tuple[list[int], list[int], list[int]]:
    """Posts an index lacks, holds stale, or holds though they are not searchable (stray),
    from its post id -> digest map: how every backend's `search check` compares."""
    missing, stale = [], []
    left = dict(indexed)
    for doc in iter_documents(session):
        digest = left.pop(doc.post_id, None)
        if digest is None:
            missing.append(doc.post_id)
        elif digest != doc.digest:
            stale.append(doc.post_id)
        progress(1)
    return missing, stale, sorted(left)


def count_searchable(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count(Post.id))
        .join(Post.thread)
        .where(Post.is_removed.is_(False), Thread.is_hidden.is_(False))
    )
