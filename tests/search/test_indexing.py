"""The index follows the database through the outbox: nothing lost, nothing phantom, nothing waits."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.database import utcnow
from forum.extensions import db
from forum.models import Board, IndexOutbox, Member, Post, Thread
from forum.search import get_search
from forum.search.query import parse_query
from forum.tasks import get_huey
from tests.builders import make_member, make_thread
from tests.databases import config_for_tests, migrate
from tests.pages import login, post_form
from tests.servers import forum_env, gunicorn

ROOT = Path(__file__).resolve().parents[2]


def outbox_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(IndexOutbox))


def indexed_ids(app) -> set[int]:
    return set(get_search(app).backend.digests())


def test_a_new_post_is_indexed_after_its_commit(app, member, board):
    thread = make_thread(app, member, board, subject="Indexed", body="aardvark")
    assert indexed_ids(app) == {1}
    assert outbox_rows(app) == 0
    assert get_search(app).search("aardvark").hits[0].thread_id == thread


def test_a_rollback_leaves_no_document_and_no_outbox_row(app, member, board):
    make_thread(app, member, board)
    with app.app_context():
        thread = db.session.get(Thread, 1)
        db.session.add(
            Post(
                thread_id=thread.id,
                author_id=member,
                position=2,
                subject="Re: x",
                body_source="phantom",
                body_html="<p>phantom</p>",
            )
        )
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(IndexOutbox)) == 1
        db.session.rollback()
    assert outbox_rows(app) == 0
    assert indexed_ids(app) == {1}


def test_a_flush_then_a_commit_is_indexed(app, member, board):
    make_thread(app, member, board)
    with app.app_context():
        db.session.add(
            Post(
                thread_id=1,
                author_id=member,
                position=2,
                subject="Re: x",
                body_source="flushed early",
                body_html="<p>flushed early</p>",
            )
        )
        db.session.flush()
        db.session.execute(select(Post.id))  # more work in the same transaction
        db.session.commit()
    assert indexed_ids(app) == {1, 2}
    assert outbox_rows(app) == 0


def test_a_kudos_writes_nothing_to_the_index(app, client, member, other_member, board):
    make_thread(app, member, board, body="worth kudos")
    backend = get_search(app).backend
    before = backend.version()
    login(client, "bob")
    response = post_form(client, "/p/1/kudos")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Post, 1).kudos_count == 1
    assert outbox_rows(app) == 0
    assert backend.version() == before


def test_renaming_a_member_queues_their_posts(app, member, board):
    make_thread(app, member, board, replies=2)
    with app.app_context():
        db.session.get(Member, member).display_name = "Zebediah Z"
        db.session.commit()
    hits = get_search(app).search("zebediah").hits
    assert len(hits) == 1 and hits[0].author_name == "Zebediah Z"


def test_a_rename_applies_a_bounded_batch_in_the_request_and_queues_the_rest(
    make_app, client, member, board
):
    """Renaming a member with many posts must not reindex them all inside the request."""
    app = make_app(SEARCH_DRAIN_IN_REQUEST=3)
    client = app.test_client()
    make_thread(app, member, board, subject="Many posts", replies=7)
    login(client, "alice")
    response = post_form(
        client, "/members/settings", {"display_name": "Zebediah Z", "featured_badge": "0"}
    )
    assert response.status_code == 302
    assert outbox_rows(app) == 8 - 3
    queued = [task.name for task in get_huey(app).pending()]
    assert "forum.search-drain" in queued
    assert get_search(app).drain_backlog(batch=2) == 5
    assert outbox_rows(app) == 0
    hits = get_search(app).search("zebediah").hits
    assert len(hits) == 1 and hits[0].author_name == "Zebediah Z"


def test_a_backlog_drain_stops_when_a_batch_makes_no_progress(app, member, board):
    search = get_search(app)
    with search.backend.write_lock(1):  # held elsewhere: no drain can apply anything
        make_thread(app, member, board, replies=2)
        assert search.drain_backlog(batch=1, lock_timeout=0.05) == 0
    assert outbox_rows(app) == 3


def test_another_worker_sees_every_commit_despite_its_pooled_searcher_and_cached_pages(
    app, database_url, tmp_path, member, board
):
    """A second app on the same index is a second gunicorn worker: it keeps a searcher and recent
    pages between requests, yet must see each commit (and each segment merge) the first makes."""
    second_app = create_app(config_for_tests(database_url, tmp_path))
    other_worker = get_search(second_app)
    try:
        assert other_worker.search("quokka").total == 0
        for made in range(1, 13):  # enough one-post commits for Whoosh to merge segments
            make_thread(
                app, member, board, subject=f"Marsupial {made}", body=f"quokka number {made}"
            )
            assert other_worker.search("quokka").total == made
            # the same query again: now from that worker's cached pages
            assert other_worker.search("quokka").total == made
        get_search(app).rebuild()  # a new generation replaces the one the pooled searcher had open
        assert other_worker.search("quokka").total == 12
        assert {hit.subject for hit in other_worker.search("marsupial 12").hits} == {"Marsupial 12"}
    finally:
        with second_app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("by_date", [False, True], ids=["relevance", "date"])
def test_a_search_in_flight_survives_another_worker_merging_away_its_segments(
    app, member, board, by_date
):
    """Another worker's commit can merge and delete the segment files a running search reads."""
    from whoosh import index

    for n in range(1, 9):  # one commit each: several small segments
        make_thread(app, member, board, subject=f"Numbat {n}", body=f"numbat sighting {n}")
    backend = get_search(app).backend
    with backend._searcher() as held:
        assert len(held.searcher.reader().leaf_readers()) > 1
        live = index.open_dir(str(backend.root / backend.generation()))
        live.writer().commit(optimize=True)  # what another worker's merging commit does
        query = backend.to_query(parse_query("numbat"))
        found = backend._search(held, query, page=1, per_page=10, by_date=by_date)
    assert found.total_threads == 8
    assert sorted(hit.subject for hit in found.hits) == sorted(f"Numbat {n}" for n in range(1, 9))
    assert all("<mark>numbat</mark>" in hit.snippet for hit in found.hits)
    assert get_search(app).search("numbat").total == 8  # the next search opens the merged index


def test_pooled_searchers_left_behind_by_a_commit_are_closed_not_kept(app, member, board):
    """After a burst of concurrent searches, a commit must not leave old searchers (and the
    deleted files they hold) idle in the pool for good."""
    backend = get_search(app).backend
    with backend._searcher() as a, backend._searcher() as b, backend._searcher() as c:
        burst = [a.searcher, b.searcher, c.searcher]
    assert len(backend._idle) == 3
    make_thread(app, member, board, body="a commit")
    get_search(app).search("commit")
    assert len(backend._idle) == 1
    assert all(searcher.is_closed for searcher in burst)


HOLD_LOCK = textwrap.dedent(
    """
    import fcntl, sys, time
    with open(sys.argv[1], "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(60)
    """
)


@contextmanager
def lock_held_elsewhere(lock_file: Path) -> Iterator[None]:
    """Another process holds the flock on lock_file inside the block. It is killed on the way out,
    pass or fail, so a failing assert does not wait out its sleep."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_file)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout.readline().strip() == "locked"
            yield
        finally:
            holder.kill()


def test_a_post_saved_while_another_process_holds_the_lock_is_kept_and_found_after_a_drain(
    app, client, member, board, runner
):
    make_thread(app, member, board)
    lock_file = Path(app.config["SEARCH_INDEX_DIR"]) / "drain.lock"
    with lock_held_elsewhere(lock_file):
        login(client, "alice")
        response = post_form(client, "/t/1/reply", {"body": "written during the lock wombat"})
        assert response.status_code == 302
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Post)) == 2
        assert outbox_rows(app) == 1
        assert get_search(app).search("wombat").total == 0
    result = runner.invoke(args=["search", "drain"])
    assert result.exit_code == 0, result.output
    assert "Applied 1 changes; 0 pending." in result.output
    assert get_search(app).search("wombat").total == 1
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0 and "The index matches the database." in check.output


KILL_AFTER_COMMIT = textwrap.dedent(
    """
    import json, os, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from forum import create_app
    from forum.extensions import db
    from forum.models import Member, Thread
    from forum.threads import services

    app = create_app(json.loads(sys.argv[1]))
    # Runs before the search listener: the process dies after the commit, before the index write.
    event.listen(Session, "after_commit", lambda session: os._exit(9), insert=True)
    with app.app_context():
        member = db.session.get(Member, 1)
        services.reply(member, db.session.get(Thread, 1), "platypus written before the crash")
    """
)


def test_a_process_killed_between_commit_and_index_write_leaves_a_row_the_next_drain_applies(
    app, member, board, tmp_path
):
    import json

    make_thread(app, member, board)
    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    config["SEARCH_INDEX_DIR"] = app.config["SEARCH_INDEX_DIR"]
    crashed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_COMMIT, json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert outbox_rows(app) == 1
    assert get_search(app).search("platypus").total == 0
    result = get_search(app).drain()
    assert result.applied == 1 and result.pending == 0
    assert get_search(app).search("platypus").total == 1


# Whoosh leaves the file of a corrupt table of contents open when it fails to read it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broken_index_never_fails_the_post_and_keeps_the_row(app, client, member, board):
    make_thread(app, member, board)
    backend = get_search(app).backend
    generation = Path(app.config["SEARCH_INDEX_DIR"]) / backend.generation()
    for toc in generation.glob("_MAIN_*.toc"):
        toc.write_bytes(b"this is not a table of contents")
    backend._opened = None
    login(client, "alice")
    response = post_form(client, "/t/1/reply", {"body": "saved despite the index"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 2
    assert outbox_rows(app) == 1
    gc.collect()  # Whoosh leaves the unparsable TOC file open: collected here, not in a later test


def test_drains_during_a_rebuild_keep_their_rows_for_the_new_generation(app, member, board):
    make_thread(app, member, board)
    service = get_search(app)
    service.backend.mark_rebuilding(True)
    with app.app_context():
        services_reply(member, "during the rebuild narwhal")
    assert service.search("narwhal").total == 1  # the live index stays fresh
    assert outbox_rows(app) == 1  # and the row waits for the new generation
    service.backend.mark_rebuilding(False)
    old = service.backend.generation()
    assert service.rebuild() == 2
    assert service.backend.generation() != old
    assert outbox_rows(app) == 0
    assert service.search("narwhal").total == 1


def services_reply(member_id: int, body: str) -> None:
    from forum.threads import services

    services.reply(db.session.get(Member, member_id), db.session.get(Thread, 1), body)


def test_rebuild_switches_generation_and_removes_the_old_one(app, member, board, runner):
    make_thread(app, member, board, replies=3)
    root = Path(app.config["SEARCH_INDEX_DIR"])
    old = get_search(app).backend.generation()
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 posts" in result.output
    new = (root / "CURRENT").read_text()
    assert new != old and (root / new).is_dir() and not (root / old).exists()


def test_check_finds_missing_stale_and_stray_documents_and_repair_fixes_them(
    app, member, board, runner
):
    make_thread(app, member, board, replies=2)
    service = get_search(app)
    from forum.search.documents import load_documents

    with app.app_context():
        docs = load_documents(db.session, [1, 2])
        db.session.get(Post, 3).body_source = "changed behind the index's back"
        # bypass the outbox: write directly, then remove the queued row
        db.session.execute(IndexOutbox.__table__.delete())
    with app.app_context():
        db.session.execute(
            Post.__table__.update().where(Post.id == 3).values(body_source="stale now")
        )
        db.session.commit()
    stray = docs[1].__class__(**{**docs[1].__dict__, "post_id": 99})
    with service.backend.write_lock():
        service.backend.apply({2: None, 99: stray})
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "missing: 1 (2)" in result.output
    assert "stale: 1 (3)" in result.output
    assert "stray: 1 (99)" in result.output
    repaired = runner.invoke(args=["search", "check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_drain_without_an_index_keeps_the_rows_and_says_why(app, member, board, runner):
    import shutil

    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    make_thread(app, member, board)
    assert outbox_rows(app) == 1
    result = runner.invoke(args=["search", "drain"])
    assert result.exit_code == 1
    assert "search rebuild" in result.output
    assert outbox_rows(app) == 1


@pytest.mark.parametrize("writers", [3])
def test_several_processes_posting_at_once_leave_a_clean_index(
    app, member, board, tmp_path, writers
):
    import json

    make_thread(app, member, board)
    for n in range(writers):
        make_member(app, f"writer{n}")
    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    config["SEARCH_INDEX_DIR"] = app.config["SEARCH_INDEX_DIR"]
    script = textwrap.dedent(
        """
        import json, sys
        from forum import create_app
        from forum.extensions import db
        from forum.models import Member, Thread
        from forum.threads import services
        app = create_app(json.loads(sys.argv[1]))
        with app.app_context():
            member = db.session.scalar(db.select(Member).where(Member.handle == sys.argv[2]))
            for n in range(15):
                services.reply(member, db.session.get(Thread, 1), f"{sys.argv[2]} reply {n} koala")
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(config), f"writer{n}"],
            cwd=ROOT,
            env=os.environ.copy(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, errors
    get_search(app).drain(lock_timeout=10)
    assert outbox_rows(app) == 0
    report = get_search(app).check()
    assert report.clean, report
    assert len(indexed_ids(app)) == 1 + 15 * writers


def test_a_rebuild_drops_the_rows_its_scan_already_covers(app, member, board):
    """After an import the outbox holds a row per post: a rebuild must not index them twice."""
    from forum.models import Board
    from forum.threads import services

    service = get_search(app)
    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False  # as during an import
    try:
        with app.app_context():
            author = db.session.get(Member, member)
            thread = services.create_thread(author, db.session.get(Board, board), "Q", "body")
            for n in range(4):
                services.reply(author, thread, f"reply {n}")
    finally:
        app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
    assert outbox_rows(app) == 5
    assert service.rebuild() == 5
    assert outbox_rows(app) == 0
    # the new generation holds exactly one commit, the build's: nothing was indexed twice
    assert service.backend.version()[1] == 1


FAIL_A_WRITE = textwrap.dedent(
    """
    import json, resource, signal, sys
    from forum import create_app
    from forum.extensions import db
    from forum.search import get_search
    from forum.search.documents import load_documents

    app = create_app(json.loads(sys.argv[1]))
    with app.app_context():
        documents = load_documents(db.session, {1})
    backend = get_search(app).backend
    # A full disk, for real: past the size limit every write fails (EFBIG, the signal ignored).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    try:
        with backend.write_lock():
            backend.apply(documents)
    except Exception as exc:
        kept = exc  # as an error reporter or a log handler's buffer keeps it, with its frames
        print("failed", type(exc).__name__, flush=True)
    sys.stdin.readline()  # a worker that lives on after its failed write
    """
)


def test_a_failed_index_write_leaves_no_lock_behind_for_other_processes(
    app, member, board, tmp_path
):
    import json

    make_thread(app, member, board)
    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    config["SEARCH_INDEX_DIR"] = app.config["SEARCH_INDEX_DIR"]
    with subprocess.Popen(
        [sys.executable, "-c", FAIL_A_WRITE, json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as failing:
        try:
            assert failing.stdout.readline().startswith("failed")
            with app.app_context():
                services_reply(member, "written after the failure quokka")
            # The failed worker still runs; another process's write must go through.
            assert get_search(app).drain().skipped_because is None
            assert outbox_rows(app) == 0
            assert get_search(app).search("quokka").total == 1
        finally:
            failing.kill()


KILLED_REBUILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from forum import create_app
    from forum.search import get_search

    app = create_app(json.loads(sys.argv[1]))
    # kill -9 of the rebuild once it has indexed its first hundred posts
    get_search(app).rebuild(progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
    """
)


def generations(index_dir: str) -> list[str]:
    return sorted(path.name for path in Path(index_dir).glob("gen-*"))


def test_a_rebuild_killed_part_way_is_reported_then_cleared_and_drains_delete_rows_again(
    app, member, board, runner, tmp_path
):
    import json

    make_thread(app, member, board, replies=120)
    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    config["SEARCH_INDEX_DIR"] = index_dir = app.config["SEARCH_INDEX_DIR"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_REBUILD, json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    live = get_search(app).backend.generation()
    assert len(generations(index_dir)) == 2  # the live one and the half-built one
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 1
    assert "rebuild: abandoned" in check.output
    with app.app_context():
        services_reply(member, "after the killed rebuild axolotl")
    assert outbox_rows(app) == 0  # applied and deleted, not kept for a rebuild that is gone
    assert generations(index_dir) == [live]
    assert not (Path(index_dir) / "REBUILDING").exists()
    assert get_search(app).search("axolotl").total == 1
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0 and "rebuild:" not in check.output, check.output


def test_check_reports_a_rebuild_in_progress_and_repair_clears_an_abandoned_one(
    app, member, board, runner
):
    make_thread(app, member, board)
    backend = get_search(app).backend
    backend.mark_rebuilding(True)  # this process rebuilding: running, not abandoned
    try:
        check = runner.invoke(args=["search", "check"])
        assert "rebuild: running" in check.output and check.exit_code == 0, check.output
    finally:
        backend.mark_rebuilding(False)
    (Path(app.config["SEARCH_INDEX_DIR"]) / "REBUILDING").write_text("12345")  # holder gone
    repaired = runner.invoke(args=["search", "check", "--repair"])
    assert "rebuild: abandoned" in repaired.output and repaired.exit_code == 0, repaired.output
    assert get_search(app).backend.rebuild_state() == ""


def test_search_says_when_changes_have_waited_for_the_index(app, client, member, board):
    make_thread(app, member, board)
    lock_file = Path(app.config["SEARCH_INDEX_DIR"]) / "drain.lock"
    notice = "The newest posts may be missing from these results"
    with lock_held_elsewhere(lock_file):
        with app.app_context():
            services_reply(member, "stuck behind the lock tapir")
        assert outbox_rows(app) == 1
        # In flight (seconds old): no notice yet.
        assert notice not in client.get("/search?q=tapir").get_data(as_text=True)
        with app.app_context():  # the row has now waited a minute
            db.session.execute(
                IndexOutbox.__table__.update().values(created_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()
        assert notice in client.get("/search?q=tapir").get_data(as_text=True)
        assert client.get("/api/v1/search?q=tapir").get_json()["index_behind"] is True
    assert get_search(app).drain().pending == 0
    assert notice not in client.get("/search?q=tapir").get_data(as_text=True)
    assert client.get("/api/v1/search?q=tapir").get_json()["index_behind"] is False


def test_a_starting_web_worker_applies_what_waits_in_the_outbox(tmp_path):
    """Rows left by a crash are applied when the server starts, not at the next post."""
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    migrate(url, tmp_path)
    app = create_app(config_for_tests(url, tmp_path))
    get_search(app).rebuild()
    member = make_member(app, "alice")
    with app.app_context():
        db.session.add(Board(name="Start", slug="start"))
        db.session.commit()
    make_thread(app, member, 1, subject="Left in the outbox", body="a crash left this gecko")
    # As a process that died between its commit and its drain leaves it: not in the index yet,
    # its row in the outbox.
    service = get_search(app)
    with service.backend.write_lock():
        service.backend.apply({1: None})
    service.backend.queue([1])
    assert outbox_rows(app) == 1 and service.search("gecko").total == 0
    with gunicorn(forum_env(url, tmp_path), tmp_path, workers=1, settings_file=True):
        # gunicorn() returned after the worker answered, so its start-up hook has run
        assert outbox_rows(app) == 0
    assert get_search(app).search("gecko").total == 1
    with app.app_context():
        db.engine.dispose()


# Whoosh leaves the damaged segment's files open when reading them fails.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_deep_check_reads_postings_and_finds_a_damaged_segment_that_repair_rebuilds(
    app, member, board, runner
):
    make_thread(app, member, board, replies=150)
    service = get_search(app)
    service.rebuild()  # one segment holding every post
    generation = Path(app.config["SEARCH_INDEX_DIR"]) / service.backend.generation()
    for postings in generation.glob("*.pst"):
        os.truncate(postings, postings.stat().st_size // 2)
    service.backend._opened = None
    shallow = runner.invoke(args=["search", "check"])
    assert shallow.exit_code == 0, shallow.output  # stored fields alone look fine
    deep = runner.invoke(args=["search", "check", "--deep"])
    assert deep.exit_code == 1
    assert "damaged: segment" in deep.output and "search rebuild" in deep.output
    repaired = runner.invoke(args=["search", "check", "--deep", "--repair"])
    assert "Repaired: the index was rebuilt." in repaired.output, repaired.output
    again = runner.invoke(args=["search", "check", "--deep"])
    assert again.exit_code == 0 and "The index matches the database." in again.output
    gc.collect()  # the damaged generation's files, left open by Whoosh, closed here
