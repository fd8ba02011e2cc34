"""The `flask forum` commands: creating an administrator and re-rendering stored HTML."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import termios

import sqlalchemy as sa
from flask import Flask

from tests.builders import make_member, make_thread
from tests.pages import login
from tests.servers import PROJECT_ROOT, forum_env, run_flask

PASSWORD = "a long enough admin passphrase"


def create_admin(runner, handle: str, display_name: str = "Root Admin", password: str = PASSWORD):
    return runner.invoke(
        args=["forum", "create-admin", "--handle", handle, "--display-name", display_name],
        input=f"{password}\n{password}\n",
    )


def scalar(app: Flask, statement):
    from forum.extensions import db

    with app.app_context():
        return db.session.scalar(statement)


def scalars(app: Flask, statement) -> list:
    from forum.extensions import db

    with app.app_context():
        return list(db.session.scalars(statement))


def execute(app: Flask, statement) -> None:
    """Change rows behind the application's back (an older renderer's output, say)."""
    from forum.extensions import db

    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def member_count(app: Flask) -> int:
    from forum.models import Member

    return scalar(app, sa.select(sa.func.count()).select_from(Member))


# create-admin


def test_create_admin_creates_a_member_with_the_admin_role(app, runner):
    from forum.models import Member, Role

    result = create_admin(runner, "root-admin")
    assert result.exit_code == 0, result.output
    assert "Administrator root-admin created." in result.output
    row = scalar(app, sa.select(Member).where(Member.handle == "root-admin"))
    assert (row.display_name, row.role) == ("Root Admin", Role.ADMIN)


def test_create_admin_with_an_email_queues_its_confirmation(app, runner):
    from forum.models import MailDelivery, Member

    result = runner.invoke(
        args=[
            *("forum", "create-admin", "--handle", "root-admin", "--display-name", "Root"),
            *("--password", PASSWORD, "--email", "Root@Example.com"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert scalar(app, sa.select(Member.email).where(Member.handle == "root-admin")) == (
        "root@example.com"
    )
    assert scalars(app, sa.select(MailDelivery.subject)) == ["Confirm your e-mail address"]


def test_created_admin_can_log_in_with_the_password_typed(app, runner, client):
    create_admin(runner, "root-admin")
    response = login(client, "root-admin", PASSWORD)
    assert response.headers["Location"] == "/"


def test_create_admin_asks_for_what_the_options_do_not_give(app, runner):
    from forum.models import Member, Role

    result = runner.invoke(
        args=["forum", "create-admin"], input=f"Root-Admin\nRoot Admin\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Handle:" in result.output
    assert scalar(app, sa.select(Member.role).where(Member.handle == "root-admin")) == Role.ADMIN


def test_create_admin_with_a_bad_handle_fails_with_the_rule(app, runner):
    result = create_admin(runner, "x")
    assert result.exit_code == 1
    assert "Error: Handles are 3–30 characters of a–z, 0–9, '-' and '_'." in result.output
    assert member_count(app) == 0


def test_create_admin_with_a_reserved_handle_fails(app, runner):
    result = create_admin(runner, "moderator")
    assert result.exit_code == 1
    assert "Error: That handle is reserved; please choose another." in result.output


def test_create_admin_with_a_taken_handle_fails(app, runner, member):
    result = create_admin(runner, "Alice")
    assert result.exit_code == 1
    assert "Error: That handle is taken." in result.output
    assert member_count(app) == 1


def test_create_admin_with_a_breached_password_fails(app, runner):
    result = create_admin(runner, "root-admin", password="1234567890")
    assert result.exit_code == 1
    assert "Error: That password is one of the most common leaked passwords" in result.output
    assert member_count(app) == 0


def test_create_admin_with_a_short_password_fails(app, runner):
    result = create_admin(runner, "root-admin", password="short")
    assert result.exit_code == 1
    assert "Error: Passwords are 10 to 1,024 characters long." in result.output


def test_create_admin_with_mismatched_passwords_creates_nobody(app, runner):
    result = runner.invoke(
        args=["forum", "create-admin", "--handle", "root-admin", "--display-name", "Root"],
        input=f"{PASSWORD}\nsomething else entirely\n",
    )
    assert result.exit_code != 0
    assert "Error: The two entered values do not match." in result.output
    assert member_count(app) == 0


def test_create_admin_with_an_over_long_display_name_fails_with_a_message(app, runner):
    result = create_admin(runner, "root-admin", display_name="R" * 61)
    assert result.exit_code == 1
    assert "Error: Display names are 1 to 60 characters." in result.output
    assert member_count(app) == 0


# rerender


def test_rerender_restores_stale_post_html_from_the_markdown(app, runner, member, board):
    from forum.models import Post

    make_thread(
        app,
        member,
        board,
        body="**Bold** move, see [the guide](https://example.com/guide)",
        replies=2,
    )
    rendered = scalars(app, sa.select(Post.body_html).order_by(Post.id))
    execute(app, sa.update(Post).values(body_html="<p>rendered by an older renderer</p>"))
    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0, result.output
    assert "Done." in result.output
    assert scalars(app, sa.select(Post.body_html).order_by(Post.id)) == rendered
    assert "<strong>Bold</strong>" in rendered[0]


def test_rerender_renders_a_post_whose_source_changed_behind_its_back(app, runner, member, board):
    from forum.models import Post

    make_thread(app, member, board, body="plain words")
    execute(app, sa.update(Post).values(body_source="*now emphasised*"))
    runner.invoke(args=["forum", "rerender"])
    html = scalar(app, sa.select(Post.body_html))
    assert html == "<p><em>now emphasised</em></p>\n"


def test_rerender_reaches_every_post_past_the_first_batch(app, runner, tmp_path):
    from forum.importer import import_file
    from forum.models import Post

    path = tmp_path / "posts.jsonl"
    path.write_text(
        "".join(
            f'{{"board": "B", "thread": "t", "subject": "S", "author": "ann", '
            f'"posted_at": "2020-01-01T00:{n // 60:02}:{n % 60:02}Z", "body": "post *{n}*"}}\n'
            for n in range(1201)
        )
    )
    with app.app_context():
        import_file(path)
    execute(app, sa.update(Post).values(body_html="stale"))
    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0, result.output
    stale = sa.select(sa.func.count()).select_from(Post).where(Post.body_html == "stale")
    assert scalar(app, stale) == 0
    last = scalar(app, sa.select(Post.body_html).order_by(Post.id.desc()).limit(1))
    assert last == "<p>post <em>1200</em></p>\n"


def test_rerender_restores_stale_signature_html(app, runner):
    from forum.models import Member

    member_id = make_member(app, "sigrid")
    execute(
        app,
        sa.update(Member)
        .where(Member.id == member_id)
        .values(signature_source="Thanks, **Sigrid**", signature_html="<p>stale</p>"),
    )
    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0, result.output
    html = scalar(app, sa.select(Member.signature_html).where(Member.id == member_id))
    assert html == "<p>Thanks, <strong>Sigrid</strong></p>\n"


def test_rerender_of_an_empty_forum_says_done(runner):
    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0, result.output
    assert "Done." in result.output


def test_demo_says_how_to_create_the_first_admin_when_there_is_none(runner):
    result = runner.invoke(args=["forum", "demo"])
    assert result.exit_code == 0, result.output
    assert "No administrator yet" in result.output
    assert "forum create-admin --handle <your-handle> --display-name '<Your Name>'" in result.output
    assert create_admin(runner, "root-admin").exit_code == 0
    assert "No administrator yet" not in runner.invoke(args=["forum", "demo"]).output


def _take_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty on stdin."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _converse(controller: int, exchanges: list[tuple[str, str]]) -> str:
    """Answer each prompt once it has appeared (a password prompt flushes what was typed ahead),
    then read the rest; returns everything the terminal showed."""
    shown, pending = "", list(exchanges)
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child closed its side of the terminal
            return shown
        if not chunk:
            return shown
        shown += chunk.decode(errors="replace")
        while pending and shown.rstrip().endswith(pending[0][0]):
            os.write(controller, f"{pending.pop(0)[1]}\n".encode())


def test_demo_at_a_terminal_offers_to_create_the_first_admin(tmp_path):
    """What `make run` does in a terminal: it asks, and the admin typed in can log in."""
    env = forum_env(f"sqlite:///{tmp_path / 'forum.db'}", tmp_path)
    run_flask(env, PROJECT_ROOT, "db", "upgrade")
    controller, terminal = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "forum", "forum", "demo"],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        preexec_fn=_take_terminal,
    ) as demo:
        os.close(terminal)
        try:
            shown = _converse(
                controller,
                [
                    ("Create one now? [Y/n]:", "y"),
                    ("Handle:", "root-admin"),
                    ("Display name:", "Root Admin"),
                    ("Password:", PASSWORD),
                    ("Repeat for confirmation:", PASSWORD),
                    ("Enter for none) []:", ""),
                ],
            )
        finally:
            os.close(controller)
            if demo.poll() is None:
                demo.kill()
        assert demo.wait(timeout=60) == 0, shown
    assert "Administrator root-admin created." in shown
    engine = sa.create_engine(env["FORUM_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            role = conn.execute(
                sa.text("SELECT role FROM members WHERE handle = 'root-admin'")
            ).scalar()
    finally:
        engine.dispose()
    assert role == "admin"
