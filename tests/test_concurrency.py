"""Concurrent writers: four real processes write to one database at once and nothing is lost.

The processes come from tests/workers.py: each builds its own app, all start at one barrier, and
the test fails on any exception one of them met.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from tests.builders import make_member, make_thread
from tests.workers import attempt, run_workers

WORKERS = 4
MEMBERS_PER_WORKER = 10
POSTS = 15
REPLIES_PER_WORKER = 25
THREADS_PER_WORKER = 10
TAG_RE = re.compile(r"<(\w+)((?:\s+[\w-]+=\"[^\"]*\")*)\s*>")
ATTRIBUTE_RE = re.compile(r'\s+[\w-]+="[^"]*"')


# What the workers run (module level, so the "spawn" start method can import them)


def kudos_job(report: dict, member_ids: list[int], post_ids: list[int]) -> None:
    """Each member gives kudos to every post, tries every third one twice, takes some back."""
    from forum.extensions import db
    from forum.models import Member, Post
    from forum.threads.services import give_kudos, take_back_kudos

    report.update(given=0, refused=0, taken_back=0)
    for m, member_id in enumerate(member_ids):
        for p, post_id in enumerate(post_ids):
            member, post = db.session.get(Member, member_id), db.session.get(Post, post_id)
            if attempt(report, give_kudos, member, post):
                report["given"] += 1
            if p % 3 == 0 and attempt(report, give_kudos, member, post) is False:
                report["refused"] += 1
            if (m + p) % 4 == 0 and attempt(report, take_back_kudos, member, post):
                report["taken_back"] += 1


def reply_job(report: dict, member_id: int, thread_id: int, count: int) -> None:
    """Reply to the same thread `count` times."""
    from forum.extensions import db
    from forum.models import Member, Thread
    from forum.threads.services import reply

    report.update(replies=0)
    for n in range(count):
        member, thread = db.session.get(Member, member_id), db.session.get(Thread, thread_id)
        if attempt(report, reply, member, thread, f"Reply {n} :)"):
            report["replies"] += 1


def thread_job(report: dict, member_id: int, board_id: int, count: int) -> None:
    """Open `count` threads in the same board."""
    from forum.extensions import db
    from forum.models import Board, Member
    from forum.threads.services import create_thread

    report.update(threads=0)
    for n in range(count):
        member, board = db.session.get(Member, member_id), db.session.get(Board, board_id)
        if attempt(report, create_thread, member, board, f"Question {n}", "Hi"):
            report["threads"] += 1


def rows(app: Flask, statement) -> list[tuple]:
    from forum.extensions import db

    with app.app_context():
        return [tuple(row) for row in db.session.execute(statement)]


def value(app: Flask, statement):
    from forum.extensions import db

    with app.app_context():
        return db.session.scalar(statement)


def make_board(app: Flask) -> int:
    from forum.extensions import db
    from forum.models import Board

    with app.app_context():
        board = Board(name="General", slug="general")
        db.session.add(board)
        db.session.commit()
        return board.id


# Kudos


def kudos_scene(app: Flask, tmp_path: Path) -> tuple[int, list[int], list[dict]]:
    """An author with 15 posts; 4 processes of 10 members each give, repeat and take back kudos."""
    from forum.models import Post

    author = make_member(app, "author")
    board_id = make_board(app)
    thread_id = make_thread(app, author, board_id, replies=POSTS - 1)
    post_ids = [pid for (pid,) in rows(app, sa.select(Post.id).where(Post.thread_id == thread_id))]
    givers = [
        [make_member(app, f"giver-{w}-{m}") for m in range(MEMBERS_PER_WORKER)]
        for w in range(WORKERS)
    ]
    reports = run_workers(app, tmp_path, [(kudos_job, (ids, post_ids)) for ids in givers])
    return author, post_ids, reports


def test_concurrent_kudos_keep_post_and_author_counters_equal_to_the_kudos_rows(app, tmp_path):
    from forum.models import Kudos, Member, Post

    author, post_ids, _ = kudos_scene(app, tmp_path)
    counts = rows(
        app,
        sa.select(Post.id, Post.kudos_count, sa.func.count(Kudos.post_id))
        .outerjoin(Kudos, Kudos.post_id == Post.id)
        .group_by(Post.id, Post.kudos_count)
        .order_by(Post.id),
    )
    assert [(post_id, stored) for post_id, stored, _ in counts] == [
        (post_id, actual) for post_id, _, actual in counts
    ]
    assert [post_id for post_id, _, _ in counts] == post_ids
    total = value(app, sa.select(sa.func.count()).select_from(Kudos))
    assert value(app, sa.select(Member.kudos_received).where(Member.id == author)) == total
    assert total > 0


def test_concurrent_kudos_lose_none_and_count_none_twice(app, tmp_path):
    from forum.models import Kudos

    _, _, reports = kudos_scene(app, tmp_path)
    given = sum(r["given"] for r in reports)
    taken_back = sum(r["taken_back"] for r in reports)
    assert given == WORKERS * MEMBERS_PER_WORKER * POSTS
    assert 0 < taken_back < given
    assert value(app, sa.select(sa.func.count()).select_from(Kudos)) == given - taken_back
    repeats = WORKERS * MEMBERS_PER_WORKER * len(range(0, POSTS, 3))
    assert sum(r["refused"] for r in reports) == repeats  # a second kudos is refused, not added


# Replies


def reply_scene(app: Flask, tmp_path: Path) -> tuple[int, int, list[int]]:
    """A thread; 4 processes post 25 replies each to it, two members taking two processes each."""
    opener = make_member(app, "opener")
    repliers = [make_member(app, "rita"), make_member(app, "ravi")]
    board_id = make_board(app)
    thread_id = make_thread(app, opener, board_id)
    run_workers(
        app,
        tmp_path,
        [(reply_job, (repliers[w % 2], thread_id, REPLIES_PER_WORKER)) for w in range(WORKERS)],
    )
    return thread_id, opener, repliers


def test_concurrent_replies_are_numbered_one_to_n_without_gaps_or_duplicates(app, tmp_path):
    from forum.models import Post

    thread_id, _, _ = reply_scene(app, tmp_path)
    positions = rows(
        app, sa.select(Post.position).where(Post.thread_id == thread_id).order_by(Post.position)
    )
    assert [p for (p,) in positions] == list(range(1, 1 + WORKERS * REPLIES_PER_WORKER + 1))


def test_concurrent_replies_keep_thread_board_and_member_counters_exact(app, tmp_path):
    from forum.models import Board, Member, Post, Thread

    thread_id, opener, repliers = reply_scene(app, tmp_path)
    total = 1 + WORKERS * REPLIES_PER_WORKER
    thread = rows(
        app,
        sa.select(Thread.post_count, Post.position)
        .join(Post, Thread.last_post_id == Post.id)
        .where(Thread.id == thread_id),
    )
    assert thread == [(total, total)]  # M of "N of M", and the last post is number M
    assert rows(app, sa.select(Board.thread_count, Board.post_count)) == [(1, total)]
    share = WORKERS // 2 * REPLIES_PER_WORKER
    counts = rows(app, sa.select(Member.id, Member.post_count).order_by(Member.id))
    assert counts == [(opener, 1), (repliers[0], share), (repliers[1], share)]


# New threads


def test_concurrent_new_threads_leave_the_boards_counts_exact(app, tmp_path):
    from forum.models import Board, Member, Thread

    members = [make_member(app, f"asker-{w}") for w in range(WORKERS)]
    board_id = make_board(app)
    run_workers(app, tmp_path, [(thread_job, (m, board_id, THREADS_PER_WORKER)) for m in members])
    total = WORKERS * THREADS_PER_WORKER
    assert rows(app, sa.select(Board.thread_count, Board.post_count)) == [(total, total)]
    assert value(app, sa.select(sa.func.count()).select_from(Thread)) == total
    assert rows(app, sa.select(sa.func.sum(Member.post_count))) == [(total,)]


# Re-rendering while members post


def rerender_job(report: dict, times: int) -> None:
    """Run `flask forum rerender` again and again while the others write."""
    from flask import current_app

    report.update(runs=0)
    runner = current_app.test_cli_runner()
    for _ in range(times):
        result = runner.invoke(args=["forum", "rerender"])
        if result.exit_code != 0:
            error = result.exception
            report["errors"].append(
                "".join(traceback.format_exception(error)) if error else result.output
            )
        else:
            report["runs"] += 1


def test_rerender_while_members_reply_fails_no_one_and_leaves_every_post_rendered(app, tmp_path):
    from forum.importer import import_file
    from forum.models import Post, Thread

    path = tmp_path / "posts.jsonl"
    path.write_text(
        "".join(
            f'{{"board": "B", "thread": "t", "subject": "S", "author": "ann", '
            f'"posted_at": "2020-01-01T{n // 3600:02}:{n // 60 % 60:02}:{n % 60:02}Z", '
            f'"body": "post *{n}*"}}\n'
            for n in range(1500)
        )
    )
    with app.app_context():
        import_file(path)
    thread_id = value(app, sa.select(Thread.id))
    repliers = [make_member(app, f"replier-{w}") for w in range(WORKERS - 1)]
    jobs = [(reply_job, (m, thread_id, REPLIES_PER_WORKER)) for m in repliers]
    reports = run_workers(app, tmp_path, [*jobs, (rerender_job, (3,))])
    assert reports[-1]["runs"] == 3
    replies = rows(app, sa.select(Post.body_source, Post.body_html).where(Post.position > 1500))
    assert len(replies) == (WORKERS - 1) * REPLIES_PER_WORKER
    with app.app_context():
        from forum.threads.services import render_body

        rendered = [canonical(render_body(source)) for source, _ in replies]
    assert [canonical(html) for _, html in replies] == rendered


def canonical(html: str) -> str:
    """HTML with each tag's attributes sorted: nh3 adds img attributes in a per-process order."""

    def sort_attributes(tag: re.Match) -> str:
        return f"<{tag[1]}{''.join(sorted(ATTRIBUTE_RE.findall(tag[2])))}>"

    return TAG_RE.sub(sort_attributes, html)
