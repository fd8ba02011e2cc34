"""Import members and posts from JSON lines (the format in the project's data README)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update

from forum import markup
from forum.auth.services import HANDLE_RE
from forum.database import write_transaction
from forum.errors import InvalidInput
from forum.models import Badge, Board, Member, MemberBadge, Post, Rank, Thread
from forum.reputation.services import refresh_rank
from forum.threads.services import add_reply, add_thread, render_body, slugify

LEADING_RE = re.compile(r"^\s*(re\s*:\s*)+", re.IGNORECASE)
BATCH_SIZE = 500


@dataclass
class ImportReport:
    members_created: int = 0
    threads_created: int = 0
    posts_created: int = 0
    posts_already_there: int = 0
    skipped: list[str] = field(default_factory=list)  # "line 12: why"


def read_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a .jsonl or .jsonl.gz file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, json.loads(line)


def thread_subject(subject: str) -> str:
    return LEADING_RE.sub("", subject).strip() or "(no subject)"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Importer:
    """Imports in batches of one transaction each; re-importing a file adds nothing twice.

    A post's identity is (board, thread key, author, posted_at); members by handle.
    """

    def __init__(self) -> None:
        self.report = ImportReport()
        self.members: dict[str, int] = {}
        self.boards: dict[str, int] = {}
        self.threads: dict[tuple[int, str], int] = {}
        self.existing_posts: dict[int, set[tuple[int, datetime]]] = {}
        self.post_counts: dict[int, int] = {}
        self.limit = current_app.config["MAX_IMPORT_POST_LENGTH"]

    def run(self, path: Path, progress: Callable[[int], None] = lambda n: None) -> ImportReport:
        batch: list[tuple[int, dict]] = []
        for item in read_lines(path):
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                self._import_batch(batch)
                progress(len(batch))
                batch = []
        if batch:
            self._import_batch(batch)
            progress(len(batch))
        self._finish()
        return self.report

    def _import_batch(self, batch: list[tuple[int, dict]]) -> None:
        with write_transaction() as session:
            for number, obj in batch:
                try:
                    if "member" in obj:
                        self._member(session, obj)
                    elif "body" in obj:
                        self._post(session, number, obj)
                    else:
                        self.report.skipped.append(f"line {number}: neither a member nor a post")
                except (InvalidInput, KeyError, ValueError, TypeError) as exc:
                    self.report.skipped.append(f"line {number}: {exc}")

    def _member_id(
        self, session, handle: str, display_name: str | None = None, since: date | None = None
    ) -> int:
        handle = handle.strip().lower()
        if handle in self.members:
            return self.members[handle]
        member_id = session.scalar(select(Member.id).where(Member.handle == handle))
        if member_id is None:
            if not HANDLE_RE.fullmatch(handle):
                raise InvalidInput(f"handle {handle!r} is not 3–30 characters of a–z, 0–9, - and _")
            member = Member(handle=handle, display_name=display_name or handle)
            if since:
                member.member_since = since
            session.add(member)
            session.flush()
            member_id = member.id
            self.report.members_created += 1
            self.post_counts.setdefault(member_id, 0)  # so _finish gives it a rank
        self.members[handle] = member_id
        return member_id

    def _member(self, session, obj: dict) -> None:
        handle = obj["member"].strip().lower()
        if handle in self.members or session.scalar(
            select(Member.id).where(Member.handle == handle)
        ):
            self._member_id(session, handle)
            return
        since = date.fromisoformat(obj["member_since"]) if obj.get("member_since") else None
        rank = None
        if obj.get("rank"):
            rank = session.scalar(select(Rank).where(Rank.name == obj["rank"]))
            if rank is None:
                raise InvalidInput(f"unknown rank {obj['rank']!r}")
        member_id = self._member_id(session, handle, obj.get("display_name"), since)
        member = session.get(Member, member_id)
        member.fixed_rank_id = rank.id if rank else None
        if obj.get("signature"):
            member.signature_source = obj["signature"]
            member.signature_html = str(markup.render_markdown(obj["signature"]))
        for name in obj.get("badges") or []:
            badge = session.scalar(select(Badge).where(Badge.name == name))
            if badge is None:
                badge = Badge(name=name)
                session.add(badge)
                session.flush()
            session.add(MemberBadge(member_id=member_id, badge_id=badge.id, reason="imported"))

    def _post(self, session, number: int, obj: dict) -> None:
        body = obj["body"]
        if len(body) > self.limit:
            self.report.skipped.append(
                f"line {number}: body of {len(body):,} characters is over the {self.limit:,} limit"
            )
            return
        at = parse_time(obj["posted_at"])
        board_id = self._board_id(session, obj["board"])
        author_id = self._member_id(session, obj["author"], since=at.date())
        key = (board_id, obj["thread"])
        thread_id = self.threads.get(key) or session.scalar(
            select(Thread.id).where(Thread.board_id == board_id, Thread.import_key == obj["thread"])
        )
        if thread_id is None:
            subject = thread_subject(obj.get("subject", ""))[:200]
            thread = add_thread(
                session,
                board_id,
                author_id,
                subject,
                body,
                render_body(body),
                at,
                import_key=obj["thread"],
            )
            self.threads[key] = thread.id
            self.existing_posts[thread.id] = {(author_id, at)}
            self.report.threads_created += 1
        else:
            self.threads[key] = thread_id
            seen = self._posts_of(session, thread_id)
            if (author_id, at) in seen:
                self.report.posts_already_there += 1
                return
            add_reply(session, thread_id, author_id, body, render_body(body), at)
            seen.add((author_id, at))
        self.post_counts[author_id] = self.post_counts.get(author_id, 0) + 1
        self.report.posts_created += 1

    def _posts_of(self, session, thread_id: int) -> set[tuple[int, datetime]]:
        if thread_id not in self.existing_posts:
            rows = session.execute(
                select(Post.author_id, Post.created_at).where(Post.thread_id == thread_id)
            )
            self.existing_posts[thread_id] = {(a, t) for a, t in rows}
        return self.existing_posts[thread_id]

    def _board_id(self, session, name: str) -> int:
        if name not in self.boards:
            board_id = session.scalar(select(Board.id).where(Board.name == name))
            if board_id is None:
                position = session.scalar(select(func.count()).select_from(Board))
                board = Board(name=name, slug=slugify(name), position=position)
                session.add(board)
                session.flush()
                board_id = board.id
            self.boards[name] = board_id
        return self.boards[name]

    def _finish(self) -> None:
        """Apply authors' post counts, recompute their ranks, and point boards at their latest post."""
        with write_transaction() as session:
            for member_id, count in self.post_counts.items():
                session.execute(
                    update(Member)
                    .where(Member.id == member_id)
                    .values(post_count=Member.post_count + count)
                )
                refresh_rank(member_id)
            for board_id in set(self.boards.values()):
                latest = session.scalar(
                    select(Post.id)
                    .join(Post.thread)
                    .where(Thread.board_id == board_id, Post.is_removed.is_(False))
                    .order_by(Post.created_at.desc(), Post.id.desc())
                    .limit(1)
                )
                session.execute(
                    update(Board).where(Board.id == board_id).values(last_post_id=latest)
                )


def import_file(path: Path, progress: Callable[[int], None] = lambda n: None) -> ImportReport:
    return Importer().run(path, progress)
