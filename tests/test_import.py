"""The JSON-lines import: what it creates, what it counts, what it skips, and that it never repeats."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from forum import create_app
from tests.databases import config_for_tests, pg_schema

MEMBERS = [
    {
        "member": "gina-g",
        "display_name": "Gina G",
        "member_since": "2014-11-10",
        "rank": "Community Guru",
        "badges": [],
        "signature": "",
    },
    {
        "member": "hank-h",
        "display_name": "Hank H",
        "member_since": "2016-03-01",
        "badges": ["Helper"],
        "signature": "**Cheers**, see [my notes](https://example.com/notes)",
    },
]
POSTS = [
    {
        "board": "Freelancers",
        "thread": "getting paid on time",
        "subject": "Getting paid on time",
        "author": "gina-g",
        "posted_at": "2017-02-19T10:12:00Z",
        "body": "How do you make sure **clients** pay on time?",
    },
    {
        "board": "Freelancers",
        "thread": "getting paid on time",
        "subject": "Re: Getting paid on time",
        "author": "hank-h",
        "posted_at": "2017-02-19T10:40:00Z",
        "body": "Milestones, always.",
    },
    {
        "board": "Freelancers",
        "thread": "getting paid on time",
        "subject": "Re: Getting paid on time",
        "author": "nora-n",
        "posted_at": "2017-02-19T11:05:30.250000Z",
        "body": "Escrow helps :)",
    },
    {
        "board": "Designers",
        "thread": "kerning help",
        "subject": "Re: re: Kerning help",
        "author": "hank-h",
        "posted_at": "2017-03-01T08:00:00Z",
        "body": "Which tool do you use for kerning?",
    },
    {
        "board": "Designers",
        "thread": "kerning help",
        "subject": "Re: Kerning help",
        "author": "gina-g",
        "posted_at": "2017-03-01T09:00:00+01:00",
        "body": "Any of them; *look* at the pairs.",
    },
]
SAMPLE = MEMBERS + POSTS


def write_jsonl(path: Path, lines: list) -> Path:
    """Objects become JSON lines; strings are written as they are (to make broken lines)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def import_lines(app: Flask, path: Path, lines: list):
    """Write the lines to a file and import it; returns the ImportReport."""
    from forum.importer import import_file

    write_jsonl(path, lines)
    with app.app_context():
        return import_file(path)


def cli_import(runner, path: Path, lines: list):
    write_jsonl(path, lines)
    return runner.invoke(args=["forum", "import", str(path)])


def query(app: Flask, statement) -> list:
    """Rows of a statement, read in a fresh app context."""
    from forum.extensions import db

    with app.app_context():
        return [tuple(row) for row in db.session.execute(statement)]


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the schema."""
    from forum.extensions import db

    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def snapshot(app: Flask) -> dict[str, list]:
    """What an import leaves behind, by natural keys (no ids, no wall-clock times)."""
    from forum.models import Badge, Board, Member, MemberBadge, Post, Rank, Thread

    return {
        "boards": query(
            app,
            sa.select(Board.name, Board.slug, Board.thread_count, Board.post_count).order_by(
                Board.name
            ),
        ),
        "threads": query(
            app,
            sa.select(Board.name, Thread.subject, Thread.slug, Thread.post_count, Thread.import_key)
            .join(Thread.board)
            .order_by(Thread.import_key),
        ),
        "posts": query(
            app,
            sa.select(
                Thread.import_key,
                Post.position,
                Post.subject,
                Member.handle,
                Post.created_at,
                Post.body_source,
                Post.body_html,
            )
            .join(Post.thread)
            .join(Post.author)
            .order_by(Thread.import_key, Post.position),
        ),
        "members": query(
            app,
            sa.select(
                Member.handle,
                Member.display_name,
                Member.member_since,
                Member.post_count,
                Rank.name,
                Member.signature_html,
            )
            .outerjoin(Rank, Member.fixed_rank_id == Rank.id)
            .order_by(Member.handle),
        ),
        "badges": query(
            app,
            sa.select(Member.handle, Badge.name, MemberBadge.reason)
            .join(MemberBadge, MemberBadge.member_id == Member.id)
            .join(Badge, MemberBadge.badge_id == Badge.id)
            .order_by(Member.handle, Badge.name),
        ),
    }


def thread_id_of(app: Flask, key: str) -> int:
    from forum.models import Thread

    return query(app, sa.select(Thread.id).where(Thread.import_key == key))[0][0]


def member_row(app: Flask, handle: str, *columns) -> tuple:
    from forum.models import Member

    return query(app, sa.select(*columns).where(Member.handle == handle))[0]


@pytest.fixture
def fresh_app(request, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """A second app on a fresh database of the same kind (SQLite or PostgreSQL) as `app`."""
    from forum.extensions import db

    def build(url: str) -> Flask:
        return create_app(config_for_tests(url, tmp_path / "second"))

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        second = build(f"sqlite:///{path}")
        yield second
    else:
        with pg_schema(tmp_path / "second") as url:
            second = build(url)
            yield second
    with second.app_context():
        db.engine.dispose()


# What one import creates


def test_import_creates_each_board_with_its_thread_and_post_counts(app, tmp_path):
    from forum.models import Board

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    boards = query(
        app, sa.select(Board.name, Board.thread_count, Board.post_count).order_by(Board.name)
    )
    assert boards == [("Designers", 1, 2), ("Freelancers", 1, 3)]


def test_import_points_each_board_at_its_latest_post(app, tmp_path):
    from forum.models import Board, Post

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    latest = query(
        app,
        sa.select(Board.name, Post.body_source)
        .join(Post, Board.last_post_id == Post.id)
        .order_by(Board.name),
    )
    assert latest == [
        ("Designers", "Any of them; *look* at the pairs."),
        ("Freelancers", "Escrow helps :)"),
    ]


def test_thread_subject_is_the_first_posts_subject_without_leading_re(app, tmp_path):
    from forum.models import Thread

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    subjects = query(app, sa.select(Thread.subject, Thread.slug).order_by(Thread.id))
    assert subjects == [
        ("Getting paid on time", "getting-paid-on-time"),
        ("Kerning help", "kerning-help"),
    ]


def test_posts_are_numbered_in_file_order_and_replies_titled_re_subject(app, tmp_path):
    from forum.models import Member, Post, Thread

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    posts = query(
        app,
        sa.select(Post.position, Post.subject, Member.handle)
        .join(Post.author)
        .join(Post.thread)
        .where(Thread.import_key == "getting paid on time")
        .order_by(Post.id),
    )
    assert posts == [
        (1, "Getting paid on time", "gina-g"),
        (2, "Re: Getting paid on time", "hank-h"),
        (3, "Re: Getting paid on time", "nora-n"),
    ]


def test_thread_post_count_is_its_number_of_posts(app, tmp_path):
    from forum.models import Thread

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    counts = query(app, sa.select(Thread.import_key, Thread.post_count).order_by(Thread.id))
    assert counts == [("getting paid on time", 3), ("kerning help", 2)]


def test_post_times_are_kept_in_utc(app, tmp_path):
    from datetime import UTC, datetime

    from forum.models import Post

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    times = [t for (t,) in query(app, sa.select(Post.created_at).order_by(Post.id))]
    assert times[2] == datetime(2017, 2, 19, 11, 5, 30, 250000, tzinfo=UTC)
    assert times[4] == datetime(2017, 3, 1, 8, 0, tzinfo=UTC)  # 09:00+01:00


def test_imported_member_keeps_display_name_and_member_since(app, tmp_path):
    from datetime import date

    from forum.models import Member

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    row = member_row(app, "hank-h", Member.display_name, Member.member_since)
    assert row == ("Hank H", date(2016, 3, 1))


def test_author_without_a_member_line_becomes_a_member_named_by_handle(app, tmp_path):
    from datetime import date

    from forum.models import Member

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    row = member_row(app, "nora-n", Member.display_name, Member.member_since, Member.password_hash)
    assert row == ("nora-n", date(2017, 2, 19), None)


def test_members_post_counts_count_their_imported_posts(app, tmp_path):
    from forum.models import Member

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    counts = query(app, sa.select(Member.handle, Member.post_count).order_by(Member.handle))
    assert counts == [("gina-g", 2), ("hank-h", 2), ("nora-n", 1)]


def test_imported_fixed_rank_is_shown_as_the_members_title(app, client, tmp_path):
    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    thread_id = thread_id_of(app, "getting paid on time")
    html = client.get(f"/t/{thread_id}-getting-paid-on-time").get_data(as_text=True)
    gina = re.findall(r"<article.*?</article>", html, flags=re.S)[0]
    assert ">Gina G</a>" in gina
    assert '<span class="author-title">Community Guru</span>' in gina


def test_an_imported_rank_says_it_was_set_at_import_once_however_often_imported(
    app, client, tmp_path
):
    from forum.models import Member, RankChange

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    html = client.get("/members/gina-g").get_data(as_text=True)
    assert "This rank was set at import." in html and "set by a moderator" not in html
    causes = query(
        app,
        sa.select(RankChange.cause).join(Member).where(Member.handle == "gina-g"),
    )
    assert causes.count(("set at import",)) == 1


def test_imported_badge_is_granted_with_reason_imported(app, tmp_path):
    from forum.models import Badge, Member, MemberBadge

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    grants = query(
        app,
        sa.select(Member.handle, Badge.name, MemberBadge.reason, MemberBadge.granted_by_id)
        .join(MemberBadge, MemberBadge.member_id == Member.id)
        .join(Badge, MemberBadge.badge_id == Badge.id),
    )
    assert grants == [("hank-h", "Helper", "imported", None)]


def test_imported_signature_is_rendered_from_markdown(app, tmp_path):
    from forum.models import Member

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    (html,) = member_row(app, "hank-h", Member.signature_html)
    assert "<strong>Cheers</strong>" in html
    assert re.search(r'<a href="https://example.com/notes" rel="[^"]*nofollow[^"]*">', html)


def test_imported_body_is_rendered_once_and_stored(app, tmp_path):
    from forum.models import Post

    import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    (html,) = query(app, sa.select(Post.body_html).where(Post.position == 1).order_by(Post.id))[0]
    assert html == "<p>How do you make sure <strong>clients</strong> pay on time?</p>\n"


def test_import_report_counts_what_it_created(app, tmp_path):
    report = import_lines(app, tmp_path / "forum.jsonl", SAMPLE)
    assert (report.members_created, report.threads_created, report.posts_created) == (3, 2, 5)
    assert report.posts_already_there == 0
    assert report.skipped == []


def test_gzipped_file_gives_the_same_result_as_the_plain_file(app, fresh_app, tmp_path):
    import_lines(app, tmp_path / "forum.jsonl.gz", SAMPLE)
    import_lines(fresh_app, tmp_path / "forum.jsonl", SAMPLE)
    assert snapshot(app) == snapshot(fresh_app)
    assert len(snapshot(app)["posts"]) == 5


# Importing again


def test_importing_the_same_file_twice_adds_no_rows(app, tmp_path):
    path = tmp_path / "forum.jsonl"
    import_lines(app, path, SAMPLE)
    before = table_counts(app)
    import_lines(app, path, SAMPLE)
    assert table_counts(app) == before
    assert before["posts"] == 5


def test_importing_the_same_file_twice_leaves_every_counter_unchanged(app, tmp_path):
    path = tmp_path / "forum.jsonl"
    import_lines(app, path, SAMPLE)
    before = snapshot(app)
    import_lines(app, path, SAMPLE)
    assert snapshot(app) == before


def test_second_import_reports_every_post_as_already_there(app, tmp_path):
    path = tmp_path / "forum.jsonl"
    import_lines(app, path, SAMPLE)
    report = import_lines(app, path, SAMPLE)
    assert (report.members_created, report.threads_created, report.posts_created) == (0, 0, 0)
    assert report.posts_already_there == 5
    assert report.skipped == []


def test_import_of_new_replies_continues_numbering_and_counters(app, tmp_path):
    from forum.models import Board, Member, Thread

    import_lines(app, tmp_path / "first.jsonl", SAMPLE)
    later = {**POSTS[2], "author": "hank-h", "posted_at": "2017-02-20T09:00:00Z", "body": "Later"}
    report = import_lines(app, tmp_path / "second.jsonl", [*SAMPLE, later])
    assert (report.posts_created, report.posts_already_there) == (1, 5)
    thread = query(
        app, sa.select(Thread.post_count).where(Thread.import_key == "getting paid on time")
    )
    assert thread == [(4,)]
    assert query(app, sa.select(Board.post_count).where(Board.name == "Freelancers")) == [(4,)]
    assert member_row(app, "hank-h", Member.post_count) == (3,)


def test_reimport_into_a_thread_hidden_since_counts_its_new_reply_only_once_restored(app, tmp_path):
    from forum.extensions import db
    from forum.models import Board, Member, Post
    from forum.threads import services
    from tests.builders import make_member

    import_lines(app, tmp_path / "first.jsonl", SAMPLE)
    moderator = make_member(app, "maude", role="moderator")
    opening = sa.select(Post).where(
        Post.thread_id == thread_id_of(app, "getting paid on time"), Post.position == 1
    )

    def set_opening_removed(removed: bool) -> None:
        with app.app_context():
            mod = db.session.get(Member, moderator)
            services.set_removed(mod, db.session.scalar(opening), removed)

    freelancers = sa.select(Board.thread_count, Board.post_count).where(Board.name == "Freelancers")
    set_opening_removed(True)
    later = {**POSTS[2], "author": "hank-h", "posted_at": "2017-02-20T09:00:00Z", "body": "Later"}
    report = import_lines(app, tmp_path / "second.jsonl", [*SAMPLE, later])
    assert report.posts_created == 1
    assert query(app, freelancers) == [(0, 0)]
    assert member_row(app, "hank-h", Member.post_count) == (1,)  # his Designers reply only
    set_opening_removed(False)
    assert query(app, freelancers) == [(1, 4)]
    assert member_row(app, "hank-h", Member.post_count) == (3,)


def interrupted_import(app: Flask, tmp_path: Path) -> tuple[Path, int]:
    """Import SAMPLE plus a batch of replies, stopped by Ctrl-C once the first batch is in;
    returns the file and the number of extra replies in it."""
    from forum.importer import BATCH_SIZE, import_file

    replies = [
        {**POSTS[1], "posted_at": f"2017-02-20T10:{n // 60:02}:{n % 60:02}Z"}
        for n in range(BATCH_SIZE)
    ]
    path = write_jsonl(tmp_path / "long.jsonl", [*SAMPLE, *replies])

    def interrupt(lines_done: int) -> None:
        raise KeyboardInterrupt

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        import_file(path, progress=interrupt)
    return path, len(replies)


def test_interrupted_import_keeps_member_post_counts_of_the_batches_it_committed(app, tmp_path):
    from forum.models import Member, Post

    _, replies = interrupted_import(app, tmp_path)
    hank_posts = query(
        app,
        sa.select(sa.func.count())
        .select_from(Post)
        .join(Post.author)
        .where(Member.handle == "hank-h"),
    )
    assert 0 < hank_posts[0][0] < 2 + replies
    assert member_row(app, "hank-h", Member.post_count) == hank_posts[0]


def test_import_after_an_interruption_completes_the_counts(app, tmp_path):
    from forum.importer import import_file
    from forum.models import Member, Thread

    path, replies = interrupted_import(app, tmp_path)
    with app.app_context():
        import_file(path)
    assert member_row(app, "hank-h", Member.post_count) == (2 + replies,)
    thread = query(app, sa.select(Thread.post_count).where(Thread.import_key == POSTS[0]["thread"]))
    assert thread == [(3 + replies,)]


def test_demo_import_run_twice_creates_nothing_the_second_time(runner):
    first = runner.invoke(args=["forum", "demo"])
    second = runner.invoke(args=["forum", "demo"])
    assert "5 members, 1 threads and 6 posts created" in first.output
    assert second.exit_code == 0, second.output
    assert "0 members, 0 threads and 0 posts created; 6 posts were already there." in second.output


# Lines that cannot be imported


def test_cli_import_reports_an_over_long_body_with_its_line_number(runner, tmp_path):
    long_post = {**POSTS[1], "posted_at": "2017-02-19T10:50:00Z", "body": "x" * 100_001}
    result = cli_import(runner, tmp_path / "forum.jsonl", [*MEMBERS, *POSTS[:2], long_post])
    assert result.exit_code == 0, result.output
    assert "skipped line 5: body of 100,001 characters is over the 100,000 limit" in result.output


def test_over_long_body_is_skipped_and_the_rest_imported(app, runner, tmp_path):
    from forum.models import Post

    long_post = {**POSTS[1], "posted_at": "2017-02-19T10:50:00Z", "body": "x" * 100_001}
    lines = [*MEMBERS, *POSTS[:2], long_post, *POSTS[2:]]
    result = cli_import(runner, tmp_path / "forum.jsonl", lines)
    assert "3 members, 2 threads and 5 posts created" in result.output
    assert query(app, sa.select(sa.func.max(sa.func.length(Post.body_source)))) == [(45,)]


def test_body_of_exactly_the_limit_is_imported(app, tmp_path):
    body = "y" * 100_000
    report = import_lines(app, tmp_path / "forum.jsonl", [{**POSTS[0], "body": body}])
    assert report.posts_created == 1
    assert report.skipped == []


def test_malformed_json_line_is_reported_and_the_rest_imported(app, runner, tmp_path):
    from forum.models import Post

    broken = '{"board": "Freelancers", "thread": "getting paid on time", "author": '
    result = cli_import(runner, tmp_path / "forum.jsonl", [*MEMBERS, POSTS[0], broken, *POSTS[1:]])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert re.search(r"skipped line 4: not valid JSON", result.output)
    assert query(app, sa.select(sa.func.count()).select_from(Post)) == [(5,)]


def test_line_that_is_not_valid_utf8_is_reported_and_the_rest_imported(app, runner, tmp_path):
    from forum.models import Post

    path = write_jsonl(tmp_path / "forum.jsonl", [*MEMBERS, *POSTS])
    path.write_bytes(path.read_bytes() + b'{"member": "caf\xe9"}\n' + json.dumps(POSTS[0]).encode())
    result = runner.invoke(args=["forum", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "skipped line 8: not valid UTF-8" in result.output
    assert query(app, sa.select(sa.func.count()).select_from(Post)) == [(5,)]


@pytest.mark.parametrize("line", ["[1, 2]", '"a post"', "42", "null"])
def test_json_line_that_is_not_an_object_is_reported(app, tmp_path, line):
    report = import_lines(app, tmp_path / "forum.jsonl", [POSTS[0], line])
    assert report.skipped == ["line 2: not a JSON object"]
    assert report.posts_created == 1


def test_line_that_is_neither_member_nor_post_is_reported(app, tmp_path):
    report = import_lines(app, tmp_path / "forum.jsonl", [{"kind": "poll"}, POSTS[0]])
    assert report.skipped == ["line 1: neither a member nor a post"]


def test_post_missing_a_field_is_reported_by_name(app, tmp_path):
    incomplete = {key: value for key, value in POSTS[0].items() if key != "posted_at"}
    report = import_lines(app, tmp_path / "forum.jsonl", [incomplete])
    assert report.skipped == ["line 1: posted_at is missing"]
    assert report.posts_created == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("board", "B" * 81, "board is longer than 80 characters"),
        ("thread", "k" * 256, "thread is longer than 255 characters"),
        ("thread", 7, "thread is not a string"),
        ("author", "no spaces allowed", "handle 'no spaces allowed' is not"),
        ("posted_at", "yesterday", "Invalid isoformat string"),
    ],
)
def test_post_with_a_field_the_database_cannot_hold_is_reported(
    app, tmp_path, field, value, message
):
    from forum.models import Post

    report = import_lines(app, tmp_path / "forum.jsonl", [{**POSTS[0], field: value}, *POSTS[1:3]])
    assert len(report.skipped) == 1
    assert report.skipped[0].startswith("line 1: ")
    assert message in report.skipped[0]
    assert query(app, sa.select(sa.func.count()).select_from(Post)) == [(2,)]


def test_over_long_display_name_is_shortened_to_fit(app, tmp_path):
    from forum.models import Member

    report = import_lines(
        app, tmp_path / "forum.jsonl", [{**MEMBERS[1], "display_name": "Hank " * 20}]
    )
    assert report.members_created == 1
    (name,) = member_row(app, "hank-h", Member.display_name)
    assert len(name) <= 60
    assert name.startswith("Hank Hank")


def test_unknown_rank_is_reported_and_the_member_imported_without_it(app, tmp_path):
    from forum.models import Member

    lines = [{**MEMBERS[0], "rank": "Grand Poobah"}, POSTS[0]]
    report = import_lines(app, tmp_path / "forum.jsonl", lines)
    assert report.skipped == ["line 1: unknown rank 'Grand Poobah'; member imported without it"]
    row = member_row(app, "gina-g", Member.display_name, Member.fixed_rank_id)
    assert row == ("Gina G", None)


def test_badge_listed_twice_is_granted_once(app, tmp_path):
    from forum.models import MemberBadge

    report = import_lines(
        app, tmp_path / "forum.jsonl", [{**MEMBERS[1], "badges": ["Helper", "Helper"]}]
    )
    assert report.skipped == []
    assert query(app, sa.select(sa.func.count()).select_from(MemberBadge)) == [(1,)]


def test_cli_import_of_a_missing_file_fails_with_a_message(runner, tmp_path):
    result = runner.invoke(args=["forum", "import", str(tmp_path / "nothing.jsonl")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_import_of_a_corrupt_gzip_file_fails_with_a_message(runner, tmp_path):
    path = tmp_path / "forum.jsonl.gz"
    path.write_bytes(b"this is not gzip data\n")
    result = runner.invoke(args=["forum", "import", str(path)])
    assert result.exit_code == 1
    assert "Error: cannot read forum.jsonl.gz" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_boards_whose_names_slugify_alike_get_distinct_slugs(app, tmp_path):
    from forum.models import Board

    lines = [{**POSTS[0], "board": "C"}, {**POSTS[3], "board": "C++"}]
    report = import_lines(app, tmp_path / "forum.jsonl", lines)
    assert report.skipped == []
    assert query(app, sa.select(Board.name, Board.slug).order_by(Board.id)) == [
        ("C", "c"),
        ("C++", "c-2"),
    ]


def test_member_line_after_the_members_posts_still_names_them(app, tmp_path):
    from datetime import date

    from forum.models import Member, Rank

    report = import_lines(app, tmp_path / "forum.jsonl", [*POSTS, *MEMBERS])
    assert report.members_created == 3
    row = query(
        app,
        sa.select(Member.display_name, Member.member_since, Rank.name, Member.post_count)
        .join(Rank, Member.fixed_rank_id == Rank.id)
        .where(Member.handle == "gina-g"),
    )
    assert row == [("Gina G", date(2014, 11, 10), "Community Guru", 2)]


def test_member_line_for_a_member_imported_before_changes_nothing(app, tmp_path):
    from forum.models import Member

    import_lines(app, tmp_path / "first.jsonl", SAMPLE)
    renamed = {**MEMBERS[1], "display_name": "Someone Else", "badges": ["Helper", "Other"]}
    import_lines(app, tmp_path / "second.jsonl", [renamed])
    assert member_row(app, "hank-h", Member.display_name) == ("Hank H",)
    assert table_counts(app)["member_badges"] == 1
