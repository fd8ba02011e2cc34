"""The spam score in the posting paths and the queue: a submission over the threshold is held (by
any member who is not a moderator, however old their account), never removed; the queue shows its
score and words as they were; the moderators' approve and "reject as spam" teach the classifier,
a plain rejection does not."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum import spam
from forum.database import utcnow, write_transaction
from forum.extensions import db
from forum.models import AuditEntry, HeldPost, HeldStatus, Member, Post, SpamToken, Thread
from tests.builders import make_member, make_thread
from tests.databases import db_count, db_scalar, db_update
from tests.pages import login, post_form

SPAM = [
    "Cheap replica watches, best prices online! Order now at https://cheap-watches.example/buy",
    "Discount watches and bags, free shipping, order today https://cheap-watches.example/deal",
    "Best cheap pills online, no prescription, order now https://pills-now.example/",
]
HAM = [
    "How do I configure the printer driver on Debian? The manual says nothing about it.",
    "Thanks, the driver update fixed my printer. Marking this as the solution.",
    "Which board should I ask about scanner settings? Mine keeps losing its calibration.",
]
SPAMMY = "Cheap watches, order now at https://cheap-watches.example/sale best prices"
NORMAL = "My printer driver lost its scanner calibration again; which manual helps?"


@pytest.fixture
def taught(app: Flask) -> None:
    """Moderators have decided enough posts (the test config needs 4 of each) for scoring."""
    app.config["SPAM_MIN_DECISIONS"] = 4
    with app.app_context(), write_transaction() as session:
        for _ in range(3):
            for text in SPAM:
                spam.record_decision(session, text, is_spam=True)
            for text in HAM:
                spam.record_decision(session, text, is_spam=False)


@pytest.fixture
def established(app: Flask, board: int) -> int:
    """Alice joined a year ago and has posted before the training: no new-member rule holds her."""
    alice = make_member(app, "alice", display_name="Alice A")
    make_thread(app, alice, board, "Hello all", "Glad to be here")
    db_update(app, Member, alice, created_at=utcnow() - timedelta(days=365))
    return alice


def counts(app: Flask, token: str) -> tuple[int, int]:
    """A token's (spam, not spam) counts; (0, 0) when never learnt."""
    with app.app_context():
        row = db.session.execute(
            select(SpamToken.spam_count, SpamToken.ham_count).where(SpamToken.token == token)
        ).one_or_none()
    return tuple(row) if row else (0, 0)


def new_thread(client, board: int, subject: str, body: str):
    return post_form(
        client, "/new", {"board": board, "subject": subject, "body": body, "submit": "1"}
    )


def latest_held(app: Flask) -> HeldPost:
    with app.app_context():
        held = db.session.scalar(select(HeldPost).order_by(HeldPost.id.desc()))
        db.session.expunge(held)
        return held


def moderator_client(app: Flask):
    client = app.test_client()
    login(client, "maude")
    return client


def test_a_spammy_thread_by_an_established_member_is_held_with_its_score_in_the_queue(
    app, client, board, taught, established, moderator
):
    posts_before = db_count(app, Post)
    login(client, "alice")
    response = new_thread(client, board, "Watches for sale", SPAMMY)
    held = latest_held(app)
    assert response.headers["Location"] == f"/held/{held.id}"
    assert held.status == HeldStatus.PENDING and held.author_id == established
    assert held.spam_score > 0.5
    assert f"Spam score {held.spam_score:.2f}" in held.reason_list
    tokens = [token for token, _ in held.spam_reasons]
    assert "domain:cheap-watches.example" in tokens
    # held only: nothing posted, nothing removed or deleted
    assert db_count(app, Post) == posts_before
    assert db_count(app, Post, Post.is_removed.is_(True)) == 0
    assert db_count(app, Thread, Thread.subject == "Watches for sale") == 0
    queue = unescape(moderator_client(app).get("/moderation/queue").get_data(as_text=True))
    assert f"Spam score {held.spam_score * 100:.0f}%" in queue
    assert "<code>domain:cheap-watches.example</code>" in queue
    assert f"Why held: Spam score {held.spam_score:.2f}" in queue
    assert "Reject as spam" in queue


def test_a_spammy_reply_is_held_too(app, client, board, taught, established, moderator):
    thread_id = make_thread(app, moderator, board, "Printers", "Which printer?")
    login(client, "alice")
    post_form(client, f"/t/{thread_id}/reply", {"body": SPAMMY, "submit": "1"})
    held = latest_held(app)
    assert held.thread_id == thread_id and held.spam_score > 0.5
    assert db_count(app, Post, Post.thread_id == thread_id) == 1


def test_a_normal_post_is_posted_and_scored_nowhere(app, client, board, taught, established):
    login(client, "alice")
    new_thread(client, board, "Scanner calibration", NORMAL)
    assert db_count(app, HeldPost) == 0
    assert db_count(app, Thread, Thread.subject == "Scanner calibration") == 1


def test_moderators_are_never_scored(app, board, taught, moderator):
    make_thread(app, moderator, board, "Watches for sale", SPAMMY)
    assert db_count(app, HeldPost) == 0


def test_nothing_is_held_before_enough_decisions(app, client, board, established):
    app.config["SPAM_MIN_DECISIONS"] = 50
    login(client, "alice")
    new_thread(client, board, "Watches for sale", SPAMMY)
    assert db_count(app, HeldPost) == 0


def test_a_post_held_for_another_reason_shows_its_score_too(app, client, board, taught, member):
    """A brand-new member's first post is held as such; its (low) score is still shown."""
    app.config["HELD_FIRST_POSTS"] = 1
    login(client, "alice")
    new_thread(client, board, "Scanner calibration", NORMAL)
    held = latest_held(app)
    assert held.spam_score is not None and held.spam_score <= 0.5
    assert not any(r.startswith("Spam score") for r in held.reason_list)


def test_approving_teaches_not_spam(app, client, board, taught, established, moderator):
    login(client, "alice")
    new_thread(client, board, "Watches for sale", SPAMMY)
    held = latest_held(app)
    before_total, before_word = counts(app, spam.TOTALS), counts(app, "sale")
    post_form(moderator_client(app), f"/moderation/held/{held.id}/approve")
    assert latest_held(app).status == HeldStatus.APPROVED
    assert counts(app, spam.TOTALS) == (before_total[0], before_total[1] + 1)
    assert counts(app, "sale") == (before_word[0], before_word[1] + 1)


def test_reject_as_spam_is_one_click_and_teaches_spam(
    app, client, board, taught, established, moderator
):
    login(client, "alice")
    new_thread(client, board, "Watches for sale", SPAMMY)
    held = latest_held(app)
    before_total, before_word = counts(app, spam.TOTALS), counts(app, "sale")
    post_form(moderator_client(app), f"/moderation/held/{held.id}/reject-spam")
    held = latest_held(app)
    assert held.status == HeldStatus.REJECTED and held.reject_reason == "Rejected as spam"
    assert counts(app, spam.TOTALS) == (before_total[0] + 1, before_total[1])
    assert counts(app, "sale") == (before_word[0] + 1, before_word[1])
    assert db_scalar(app, select(func.count()).where(AuditEntry.action == "held.reject_spam")) == 1
    # what it learnt is exactly the text it scored: unlearning that leaves the counts as before
    with app.app_context(), write_transaction() as session:
        spam.unlearn(session, spam.text_of(held.subject, held.body_html), is_spam=True)
    assert counts(app, spam.TOTALS) == before_total and counts(app, "sale") == before_word


def test_a_plain_rejection_teaches_nothing(app, client, board, taught, established, moderator):
    login(client, "alice")
    new_thread(client, board, "Watches for sale", SPAMMY)
    held = latest_held(app)
    before = counts(app, spam.TOTALS)
    post_form(moderator_client(app), f"/moderation/held/{held.id}/reject", {"reason": "Off topic"})
    assert latest_held(app).status == HeldStatus.REJECTED
    assert counts(app, spam.TOTALS) == before
