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
from sqlalchemy.orm import Session

from forum import audit, markup
from forum.auth.services import HANDLE_RE, MAX_DISPLAY_NAME
from forum.database import write_transaction
from forum.errors import InvalidInput
from forum.models import Badge, Board, Member, MemberBadge, Post, Rank, RankChange, Thread
from forum.names import free_slug
from forum.reputation.services import FIXED_AT_IMPORT, refresh_rank
from forum.threads.services import MAX_SUBJECT, PostContent, add_reply, add_thread, render_body

LEADING_RE = re.compile(r"^\s*(re\s*:\s*)+", re.IGNORECASE)
BATCH_SIZE = 500
# Column widths: a longer value would be refused by PostgreSQL and abort the whole batch.
MAX_BOARD_NAME = 80
MAX_THREAD_KEY = 255
MAX_BADGE_NAME = 60


@dataclass
class ImportReport:
    members_created: int = 0
    threads_created: int = 0
    posts_created: int = 0
    posts_already_there: int = 0
    skipped: list[str] = field(default_factory=list)  # "line 12: why"


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for each non-blank line of a .jsonl or .jsonl.gz file.

    Lines stay undecoded so that one bad line (broken JSON, invalid UTF-8) is reported by
    parse_line and skipped, instead of ending the whole import.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, line


def parse_line(line: bytes) -> dict:
    """One line's object; InvalidInput says why a line is not one."""
    try:
        obj = json.loads(line)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not valid UTF-8 (byte {exc.start + 1})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(obj, dict):
        raise InvalidInput("not a JSON object")
    return obj


def text_field(obj: dict, name: str, max_length: int | None = None) -> str:
    """A required string field, checked against the column that will hold it."""
    if name not in obj:
        raise InvalidInput(f"{name} is missing")
    value = obj[name]
    if not isinstance(value, str):
        raise InvalidInput(f"{name} is not a string")
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"{name} is longer than {max_length} characters")
    return value


def display_name_of(name: str, handle: str) -> str:
    """A display name on one line that fits its column; the handle when none is given."""
    return " ".join(name.split())[:MAX_DISPLAY_NAME].rstrip() or handle


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
        self.authors_only: set[int] = set()  # created from post lines; a member line may follow
        self.boards: dict[str, int] = {}
        self.threads: dict[tuple[int, str], int] = {}
        self.existing_posts: dict[int, set[tuple[int, datetime]]] = {}
        self.post_counts: dict[int, int] = {}
        self.limit = current_app.config["MAX_IMPORT_POST_LENGTH"]

    def run(self, path: Path, progress: Callable[[int], None] = lambda n: None) -> ImportReport:
        batch: list[tuple[int, bytes]] = []
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

    def _import_batch(self, batch: list[tuple[int, bytes]]) -> None:
        """One transaction: the batch's lines, then its authors' post counts and ranks.

        Counting per batch keeps members' post counts exact even when an import stops half-way
        (a re-import skips the posts already there, so it would never count them).
        """
        with write_transaction() as session:
            for number, line in batch:
                try:
                    obj = parse_line(line)
                    if "member" in obj:
                        self._member(session, number, obj)
                    elif "body" in obj:
                        self._post(session, number, obj)
                    else:
                        self.report.skipped.append(f"line {number}: neither a member nor a post")
                except (InvalidInput, ValueError, TypeError) as exc:
                    self.report.skipped.append(f"line {number}: {exc}")
            self._count_posts(session)

    def _count_posts(self, session: Session) -> None:
        """Add the batch's posts to their authors' counts and recompute their ranks."""
        for member_id, count in self.post_counts.items():
            if count:
                session.execute(
                    update(Member)
                    .where(Member.id == member_id)
                    .values(post_count=Member.post_count + count)
                )
            refresh_rank(session, member_id, cause="imported posts")
        self.post_counts = {}

    def _member_id(
        self,
        session,
        handle: str,
        display_name: str = "",
        since: date | None = None,
        from_post: bool = False,
    ) -> int:
        handle = handle.strip().lower()
        if handle in self.members:
            return self.members[handle]
        member_id = session.scalar(select(Member.id).where(Member.handle == handle))
        if member_id is None:
            if not HANDLE_RE.fullmatch(handle):
                raise InvalidInput(f"handle {handle!r} is not 3–30 characters of a–z, 0–9, - and _")
            member = Member(handle=handle, display_name=display_name_of(display_name, handle))
            if since:
                member.member_since = since
            session.add(member)
            session.flush()
            member_id = member.id
            self.report.members_created += 1
            self.post_counts.setdefault(member_id, 0)  # so _count_posts gives it a rank
            if from_post:
                self.authors_only.add(member_id)
        self.members[handle] = member_id
        return member_id

    def _member(self, session: Session, number: int, obj: dict) -> None:
        handle = text_field(obj, "member").strip().lower()
        member_id = self.members.get(handle) or session.scalar(
            select(Member.id).where(Member.handle == handle)
        )
        if member_id is not None and member_id not in self.authors_only:
            self.members[handle] = member_id  # imported before: a re-import changes nothing
            return
        display_name, rank_name, signature, since_text = (
            obj.get(name) or "" for name in ("display_name", "rank", "signature", "member_since")
        )
        badges = obj.get("badges") or []
        if not all(isinstance(v, str) for v in (display_name, rank_name, signature, since_text)):
            raise InvalidInput("display_name, rank, signature and member_since must be strings")
        if not isinstance(badges, list) or not all(isinstance(b, str) for b in badges):
            raise InvalidInput("badges must be a list of names")
        since = date.fromisoformat(since_text) if since_text else None
        rank = None
        if rank_name:
            rank = session.scalar(select(Rank).where(Rank.name == rank_name))
            if rank is None:  # keep the member (their posts need them), without the rank
                self.report.skipped.append(
                    f"line {number}: unknown rank {rank_name!r}; member imported without it"
                )
        if member_id is None:
            member_id = self._member_id(session, handle, display_name, since)
            member = session.get(Member, member_id)
        else:  # created from an earlier post line of this file; its member line completes it
            self.authors_only.discard(member_id)
            member = session.get(Member, member_id)
            member.display_name = display_name_of(display_name, handle)
            if since:
                member.member_since = since
        if rank is not None and member.fixed_rank_id != rank.id:  # a re-import adds no history
            session.add(
                RankChange(
                    member_id=member_id,
                    old_rank=member.fixed_rank.name if member.fixed_rank else "(ladder)",
                    new_rank=rank.name,
                    cause=FIXED_AT_IMPORT,
                )
            )
        member.fixed_rank_id = rank.id if rank else None
        if signature:
            member.signature_source = signature
            member.signature_html = str(markup.render_markdown(signature))
        for name in dict.fromkeys(badges):  # each badge once, in the order given
            if len(name) > MAX_BADGE_NAME:
                self.report.skipped.append(
                    f"line {number}: badge {name[:20]!r}... is longer than {MAX_BADGE_NAME} characters"
                )
                continue
            badge = session.scalar(select(Badge).where(Badge.name == name))
            if badge is None:
                badge = Badge(name=name)
                session.add(badge)
                session.flush()
            session.add(MemberBadge(member_id=member_id, badge_id=badge.id, reason="imported"))
            audit.record(
                session,
                None,
                "badge.grant",
                member_id=member_id,
                badge_id=badge.id,
                reason="imported",
            )

    def _post(self, session: Session, number: int, obj: dict) -> None:
        body = text_field(obj, "body")
        if len(body) > self.limit:
            self.report.skipped.append(
                f"line {number}: body of {len(body):,} characters is over the {self.limit:,} limit"
            )
            return
        # Check every field before writing anything, so a bad line leaves nothing behind.
        board_name = text_field(obj, "board", MAX_BOARD_NAME)
        thread_key = text_field(obj, "thread", MAX_THREAD_KEY)
        author = text_field(obj, "author")
        at = parse_time(text_field(obj, "posted_at"))
        subject = obj.get("subject") or ""
        if not isinstance(subject, str):
            raise InvalidInput("subject is not a string")
        author_id = self._member_id(session, author, since=at.date(), from_post=True)
        board_id = self._board_id(session, board_name)
        key = (board_id, thread_key)
        thread_id = self.threads.get(key) or session.scalar(
            select(Thread.id).where(Thread.board_id == board_id, Thread.import_key == thread_key)
        )
        counted = True
        if thread_id is None:
            subject = " ".join(thread_subject(subject).split())[:MAX_SUBJECT]
            content = PostContent(author_id, body, render_body(body), at)
            thread = add_thread(
                session, board_id=board_id, subject=subject, content=content, import_key=thread_key
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
            # not counted in a thread hidden since the last import: its posts are in no count
            content = PostContent(author_id, body, render_body(body), at)
            _, counted = add_reply(session, thread_id=thread_id, content=content)
            seen.add((author_id, at))
        if counted:
            self.post_counts[author_id] = self.post_counts.get(author_id, 0) + 1
        self.report.posts_created += 1

    def _posts_of(self, session: Session, thread_id: int) -> set[tuple[int, datetime]]:
        if thread_id not in self.existing_posts:
            rows = session.execute(
                select(Post.author_id, Post.created_at).where(Post.thread_id == thread_id)
            )
            self.existing_posts[thread_id] = {(a, t) for a, t in rows}
        return self.existing_posts[thread_id]

    def _board_id(self, session: Session, name: str) -> int:
        if name not in self.boards:
            board_id = session.scalar(select(Board.id).where(Board.name == name))
            if board_id is None:
                position = session.scalar(select(func.count()).select_from(Board))
                board = Board(name=name, slug=free_slug(session, Board, name), position=position)
                session.add(board)
                session.flush()
                board_id = board.id
            self.boards[name] = board_id
        return self.boards[name]

    def _finish(self) -> None:
        """Point boards at their latest post (by time: a file need not be in time order)."""
        with write_transaction() as session:
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


def describe_board(name: str, description: str) -> None:
    """Give an imported board a description, unless it has one (the demo's board)."""
    with write_transaction() as session:
        board = session.scalar(select(Board).where(Board.name == name))
        if board is not None and not board.description:
            board.description = description
