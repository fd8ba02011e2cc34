"""Every public service is one unit of work: it commits exactly once, so it happens whole or not at all.

A service that commits twice can leave its first half behind when the second fails (a post
removed while its report stays open); this table makes the rule one the suite enforces. A new
public service belongs in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from forum.extensions import db
from forum.models import (
    Badge,
    Board,
    Member,
    Notification,
    Post,
    Refusal,
    Report,
    Role,
    SpammerRemoval,
    Thread,
    WatchLevel,
)
from tests.builders import DEFAULT_PASSWORD, make_member, make_thread


@contextmanager
def count_commits() -> Iterator[list[Session]]:
    """The sessions committed inside the block, one entry per commit."""
    commits: list[Session] = []

    def on_commit(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(Session, "after_commit", on_commit)


@dataclass
class World:
    """Names of what the services act on, looked up fresh inside each call."""

    def member(self, handle: str) -> Member:
        return db.session.scalar(select(Member).where(Member.handle == handle))

    def thread(self) -> Thread:
        return db.session.scalar(select(Thread).order_by(Thread.id))

    def post(self, position: int) -> Post:
        return db.session.scalar(select(Post).where(Post.position == position))

    def badge(self) -> Badge:
        return db.session.scalar(select(Badge))

    def board(self) -> Board:
        return db.session.scalar(select(Board))

    def report(self) -> Report:
        return db.session.scalar(select(Report))


def _threads():
    from forum.threads import services

    return services


def _drafts():
    from forum.threads import drafts

    return drafts


def _moderation():
    from forum.moderation import services

    return services


def _reputation():
    from forum.reputation import services

    return services


def _auth():
    from forum.auth import services

    return services


def _defences():
    from forum.auth import defences

    return defences


def _notifications():
    from forum.notifications import services

    return services


def _members():
    from forum.members import services

    return services


def _tokens():
    from forum.api import tokens

    return tokens


def _revoke_a_token(w: World) -> None:
    token, _ = _tokens().create_token(w.member("alice"), "bot", write=True)
    with count_commits() as commits:
        assert _tokens().revoke_token(w.member("alice"), token.id)
    assert len(commits) == 1


def _use_a_token(w: World) -> None:
    _, secret = _tokens().create_token(w.member("alice"), "bot", write=False)
    with count_commits() as commits:
        _tokens().note_used(_tokens().token_for(secret))
    assert len(commits) == 1


def _reset_token(w: World) -> str:
    """A reset link's token, as the e-mail would carry it."""
    from forum.auth.services import _password_fingerprint, _serializer

    alice = w.member("alice")
    return _serializer("forum.reset-password").dumps([alice.id, _password_fingerprint(alice)])


def _confirm_token(w: World) -> str:
    from forum.auth.services import _serializer

    return _serializer("forum.confirm-email").dumps([w.member("alice").id, "alice@example.com"])


def _remove_reported(w: World) -> None:
    _moderation().report_post(w.member("bob"), w.post(1), "spam")
    with count_commits() as commits:
        _moderation().resolve_report(w.member("maude"), w.report(), remove=True)
    assert len(commits) == 1


def _merge_a_duplicate(w: World) -> None:
    """Bob asks again (set up outside the count), then a moderator merges it into Alice's."""
    duplicate = _threads().create_thread(w.member("bob"), w.board(), "A duplicate", "Same")
    with count_commits() as commits:
        _moderation().merge_thread(w.member("maude"), duplicate, w.thread(), "duplicate")
    assert len(commits) == 1
    assert db.session.get(Thread, duplicate.id).merged_into_id == w.thread().id


def _held(w: World):
    """A reply of Carol's (a new member) held for review: holding on, then she replies."""
    from forum.models import HeldPost

    _moderation().save_site_settings(
        w.member("boss"),
        {
            "held_first_posts": 1,
            "new_member_posts": 0,
            "new_member_link_cap": 2,
            "new_member_post_interval": 30,
        },
    )
    _threads().reply(w.member("carol"), w.thread(), "Held reply")
    return db.session.scalar(select(HeldPost))


def _hold_and_count(w: World) -> None:
    from forum.models import HeldPost

    _moderation().save_site_settings(
        w.member("boss"),
        {
            "held_first_posts": 1,
            "new_member_posts": 0,
            "new_member_link_cap": 2,
            "new_member_post_interval": 30,
        },
    )
    with count_commits() as commits:
        _threads().reply(w.member("carol"), w.thread(), "Held reply")
    assert len(commits) == 1
    assert db.session.scalar(select(HeldPost)) is not None


SERVICES: dict[str, Callable[[World], object]] = {
    "create thread": lambda w: _threads().create_thread(
        w.member("alice"), w.board(), "Another question", "Body"
    ),
    "reply": lambda w: _threads().reply(w.member("bob"), w.thread(), "An answer"),
    "edit post": lambda w: _threads().edit_post(w.member("alice"), w.post(1), "Edited", "New"),
    "save draft": lambda w: _drafts().save_draft(w.member("bob"), thread=w.thread(), body="Hm"),
    "discard draft": lambda w: _drafts().discard_draft(w.member("alice"), board=w.board()),
    "remove post": lambda w: _threads().set_removed(w.member("maude"), w.post(2), True, "spam"),
    "remove opening post": lambda w: _threads().set_removed(w.member("maude"), w.post(1), True),
    "give kudos": lambda w: _threads().give_kudos(w.member("alice"), w.post(2)),
    "accept solution": lambda w: _threads().set_solution(w.member("alice"), w.thread(), w.post(2)),
    "report post": lambda w: _moderation().report_post(w.member("bob"), w.post(1), "spam"),
    "lock thread": lambda w: _moderation().set_thread_flag(
        w.member("maude"), w.thread(), "is_locked", True
    ),
    "suspend": lambda w: _moderation().suspend(w.member("maude"), w.member("bob"), 2, "rude"),
    "remove spammer": lambda w: _moderation().remove_spammer(
        w.member("maude"), w.member("bob"), "spam"
    ),
    "set role": lambda w: _moderation().set_role(w.member("boss"), w.member("bob"), Role.MODERATOR),
    "save board": lambda w: _moderation().save_board(
        w.member("boss"), None, name="Agencies", description="", slug="agency-work"
    ),
    "move board": lambda w: _moderation().move_board(
        w.member("boss"), w.thread().board_id, up=False
    ),
    "update settings": lambda w: _members().update_settings(
        w.member("alice"),
        display_name="Alice Again",
        signature="Bye",
        featured_badge_id=w.badge().id,
        time_zone="Asia/Tokyo",
    ),
    "grant badge": lambda w: _reputation().grant_badge(
        w.member("maude"), w.member("bob"), w.badge(), "kind"
    ),
    "set fixed rank": lambda w: _reputation().set_fixed_rank(
        w.member("maude"), w.member("bob"), None, "reset"
    ),
    "retire badge": lambda w: _reputation().set_badge_retired(
        w.member("maude"), w.badge(), True, "old"
    ),
    "register": lambda w: _auth().register(
        "newbie", "New B", DEFAULT_PASSWORD, email="newbie@example.com"
    ),
    "register from an address": lambda w: _auth().register(
        "visitor", "Visitor V", DEFAULT_PASSWORD, address_hash=_defences().address_hash("192.0.2.1")
    ),
    "log a refused registration": lambda w: _defences().log_refusal(
        Refusal.HONEYPOT, "spammer", "spam@spam.example", _defences().address_hash("192.0.2.1")
    ),
    "change password": lambda w: _auth().change_password(
        w.member("alice"), DEFAULT_PASSWORD, "another long passphrase"
    ),
    "ask to change e-mail": lambda w: _auth().request_email_change(
        w.member("alice"), "new@example.com", DEFAULT_PASSWORD
    ),
    "ask for a reset link": lambda w: _auth().request_password_reset("alice@example.com"),
    "reset password": lambda w: _auth().reset_password(_reset_token(w), "a new long passphrase"),
    "confirm e-mail": lambda w: _auth().confirm_email(_confirm_token(w)),
    "watch thread": lambda w: _notifications().set_thread_level(
        w.member("bob"), w.thread(), WatchLevel.MUTED
    ),
    "watch board": lambda w: _notifications().set_board_level(w.member("bob"), w.board(), True),
    "mute member": lambda w: _notifications().set_member_muted(
        w.member("alice"), w.member("bob"), True
    ),
    "mark notification read": lambda w: _notifications().mark_read(
        w.member("alice"), db.session.scalar(select(Notification.id))
    ),
    "mark all read": lambda w: _notifications().mark_all_read(w.member("alice")),
    "create API token": lambda w: _tokens().create_token(w.member("alice"), "bot", write=True),
    "note read position": lambda w: _notifications().note_read(w.member("bob"), w.thread(), 2, 1),
    "save new-member settings": lambda w: _moderation().save_site_settings(
        w.member("boss"),
        {
            "held_first_posts": 0,
            "new_member_posts": 5,
            "new_member_link_cap": 4,
            "new_member_post_interval": 60,
        },
    ),
}
# Services that need a held post first: the holding itself is set up (and counted) outside.
HELD_SERVICES: dict[str, Callable[[World, object], object]] = {
    "approve held post": lambda w, held: _moderation().approve_held(w.member("maude"), held),
    "reject held post": lambda w, held: _moderation().reject_held(w.member("maude"), held, "spam"),
    "reject held post as spam": lambda w, held: _moderation().reject_held(
        w.member("maude"), held, as_spam=True
    ),
}


@pytest.fixture
def world(app, board) -> World:
    from forum.auth.services import register
    from forum.models import MemberBadge
    from forum.tasks import run_pending_work

    with app.app_context():
        register("alice", "Alice A", DEFAULT_PASSWORD, email="alice@example.com")
    bob = make_member(app, "bob")
    make_member(app, "carol")
    make_member(app, "maude", role="moderator")
    make_member(app, "boss", role="admin")
    with app.app_context():
        alice_id = db.session.scalar(select(Member.id).where(Member.handle == "alice"))
        db.session.add(Badge(name="Helper"))
        db.session.flush()
        db.session.add(
            MemberBadge(
                member_id=alice_id, badge_id=db.session.scalar(select(Badge.id)), reason="setup"
            )
        )
        db.session.commit()
    make_thread(app, alice_id, board, replies=1, reply_author_id=bob)
    with app.app_context():
        run_pending_work()  # Bob's reply: a notification for Alice
    # The search index's outbox drain after a commit is bookkeeping of its own (it commits the
    # rows it applied); the services' units of work are what is counted here.
    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False
    return World()


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_public_service_commits_exactly_once(app, world, name):
    with app.app_context():
        with count_commits() as commits:
            SERVICES[name](world)
        assert len(commits) == 1, f"{name} committed {len(commits)} times"


def test_merging_a_thread_is_one_unit_of_work(app, world):
    with app.app_context():
        _merge_a_duplicate(world)


def test_removing_a_reported_post_and_closing_its_report_is_one_unit_of_work(app, world):
    with app.app_context():
        _remove_reported(world)
        assert world.post(1).is_removed
        assert world.report().status.value == "removed"


def test_undoing_a_spammer_removal_is_one_unit_of_work(app, world):
    with app.app_context():
        _moderation().remove_spammer(world.member("maude"), world.member("bob"), "spam")
        removal = db.session.scalar(select(SpammerRemoval))
        with count_commits() as commits:
            _moderation().undo_spammer_removal(world.member("maude"), removal)
        assert len(commits) == 1
        assert not world.post(2).is_removed


def test_revoking_an_api_token_is_one_unit_of_work(app, world):
    with app.app_context():
        _revoke_a_token(world)


def test_noting_an_api_token_used_is_one_unit_of_work(app, world):
    with app.app_context():
        _use_a_token(world)


@pytest.mark.parametrize("name", list(HELD_SERVICES))
def test_each_held_post_decision_commits_exactly_once(app, world, name):
    with app.app_context():
        held = _held(world)
        with count_commits() as commits:
            HELD_SERVICES[name](world, held)
        assert len(commits) == 1, f"{name} committed {len(commits)} times"


def test_holding_a_post_is_one_unit_of_work(app, world):
    with app.app_context():
        _hold_and_count(world)
