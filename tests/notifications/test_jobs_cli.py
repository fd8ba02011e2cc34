"""`flask --app forum jobs ...`: doing waiting work, seeing what is stuck, retrying it."""

from __future__ import annotations

import socket

from sqlalchemy import select

from forum.extensions import db
from forum.models import MailDelivery, MailStatus
from tests.builders import make_thread
from tests.notifications.test_notifications import confirmed, reply_as
from tests.smtp import smtp_server


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def statuses(app) -> list[str]:
    with app.app_context():
        return [str(s) for s in db.session.scalars(select(MailDelivery.status))]


def test_mail_that_cannot_be_sent_is_kept_reported_and_sent_on_retry(app, runner, board):
    asker, bob = confirmed(app, "alice"), confirmed(app, "bob")
    thread = make_thread(app, asker, board)
    reply_as(app, bob, thread, "an answer")
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{closed_port()}"  # the SMTP server is down
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 1
    assert "stuck" in result.output and "jobs retry" in result.output
    assert "pending" in statuses(app)  # nothing lost
    with app.app_context():
        delivery = db.session.scalar(select(MailDelivery).where(MailDelivery.attempts > 0))
        assert delivery.last_error  # why it failed, for the operator
    status = runner.invoke(args=["jobs", "status"])
    assert "e-mails pending:" in status.output
    with smtp_server() as (inbox, url):
        app.config["MAIL_URL"] = url
        result = runner.invoke(args=["jobs", "retry"])
        assert result.exit_code == 0, result.output
        assert len(inbox.messages) == 3  # two confirmations and the reply notice
    assert set(statuses(app)) == {MailStatus.SENT.value}
    assert runner.invoke(args=["jobs", "status"]).exit_code == 0


def test_a_message_that_keeps_failing_is_marked_failed_and_status_exits_1(app, runner, board):
    confirmed(app, "alice")
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{closed_port()}"
    for _ in range(5):
        runner.invoke(args=["jobs", "run"])
    assert statuses(app) == [MailStatus.FAILED.value]
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 1
    assert "e-mails failed: 1" in result.output


def test_without_an_smtp_server_mail_is_written_as_eml_files(app, runner, board, tmp_path):
    import email
    import email.policy

    app.config["MAIL_URL"] = ""
    app.config["MAIL_FILE_DIR"] = str(tmp_path / "mail")
    confirmed(app, "alice")
    assert runner.invoke(args=["jobs", "run"]).exit_code == 0
    (path,) = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Confirm your e-mail address"
    assert message["To"] == "alice@example.com"


def test_a_refused_recipient_fails_at_once_and_the_rest_are_sent(app, runner, board):
    with smtp_server() as (inbox, url):
        app.config["MAIL_URL"] = url
        inbox.refused.add("alice@example.com")
        confirmed(app, "alice")
        confirmed(app, "bob")
        result = runner.invoke(args=["jobs", "run"])
        assert result.exit_code == 1  # one e-mail failed: the operator is told
        assert [m["To"] for m in inbox.messages] == ["bob@example.com"]
    assert sorted(statuses(app)) == [MailStatus.FAILED.value, MailStatus.SENT.value]
