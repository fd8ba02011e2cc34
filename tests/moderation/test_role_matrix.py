"""Every state-changing route against every role: only the allowed roles change anything.

Roles: anonymous, the owner (alice, who asked thread 1), another member (carol), a moderator
(maude) and an admin (boss). Bob wrote reply 2. Every request also carries fields a forged form
might add (role=admin, kudos_count=9999, ...), which must be ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, func, select

from forum.api import tokens
from forum.extensions import db
from forum.models import (
    ApiToken,
    Badge,
    Board,
    Draft,
    EmailPreference,
    HeldPost,
    Kind,
    Kudos,
    MailDelivery,
    Member,
    MemberBadge,
    MemberMute,
    Post,
    Rank,
    Report,
    Role,
    SiteSettings,
    Subscription,
    Thread,
    WatchLevel,
)
from forum.tasks import run_pending_work
from tests.builders import DEFAULT_PASSWORD, make_member, make_thread
from tests.pages import login, post_form

ROLES = ("anonymous", "owner", "other", "moderator", "admin")
HANDLES = {"owner": "alice", "other": "carol", "moderator": "maude", "admin": "boss"}
MEMBERS = ROLES[1:]
MODERATORS = ("moderator", "admin")
FORGED = {
    "role": "admin",
    "kudos_count": "9999",
    "author_id": "1",
    "is_admin": "1",
    "post_count": "9999",
    "kudos_received": "9999",
}


@dataclass
class World:
    thread: int
    reply: int
    badge: int
    report: int
    rank: int
    board: int


@dataclass
class Case:
    url: str
    allowed: tuple[str, ...]
    state: Callable[[], object]  # a snapshot of what the route would change
    data: dict = field(default_factory=dict)
    prefix: str = ""
    setup: Callable[[object, World], None] | None = None
    refused: int = 403  # what a member not allowed gets (404 or a no-op redirect: not theirs)
    done: tuple[int, ...] = (302, 303)  # what an allowed role gets


def scalar(statement):
    return db.session.scalar(statement)


def give_kudos_from_everyone(app, world):
    with app.app_context():
        for handle in HANDLES.values():
            member_id = scalar(select(Member.id).where(Member.handle == handle))
            db.session.add(Kudos(member_id=member_id, post_id=world.reply))
        db.session.get(Post, world.reply).kudos_count = 4
        db.session.commit()


def remove_reply(app, world):
    with app.app_context():
        db.session.get(Post, world.reply).is_removed = True
        db.session.commit()


def lock_and_pin(app, world):
    with app.app_context():
        thread = db.session.get(Thread, world.thread)
        thread.is_locked = thread.is_pinned = True
        db.session.commit()


def suspend_bob(app, world):
    from datetime import timedelta

    from forum.database import utcnow

    with app.app_context():
        bob = scalar(select(Member).where(Member.handle == "bob"))
        bob.suspended_until = utcnow() + timedelta(days=3)
        db.session.commit()


def grant_helper_to_bob(app, world):
    with app.app_context():
        bob = scalar(select(Member.id).where(Member.handle == "bob"))
        db.session.add(MemberBadge(member_id=bob, badge_id=world.badge, reason="setup"))
        db.session.commit()


def retire_badge(app, world):
    with app.app_context():
        db.session.get(Badge, world.badge).is_retired = True
        db.session.commit()


def drafts_for_everyone(app, world):
    """A reply draft on thread 1 and a new-thread draft on board 1 for every member."""
    with app.app_context():
        for member_id in db.session.scalars(select(Member.id)):
            db.session.add(Draft(member_id=member_id, thread_id=world.thread, body="draft"))
            db.session.add(Draft(member_id=member_id, board_id=world.board, body="draft"))
        db.session.commit()


def a_duplicate_of_thread_1(app, world):
    """Thread 2, Carol's, to merge into thread 1."""
    carol = make_member(app, "dupe-asker")
    make_thread(app, carol, world.board, subject="Question again", replies=1)


def merged_state():
    return (db.session.get(Thread, 2).merged_into_id, db.session.get(Thread, 1).post_count)


def token_for_alice(app, world):
    with app.app_context():
        alice = scalar(select(Member).where(Member.handle == "alice"))
        tokens.create_token(alice, "setup", write=True)


def everyone_watches(app, world):
    with app.app_context():
        db.session.execute(delete(Subscription).where(Subscription.thread_id == world.thread))
        for member_id in db.session.scalars(select(Member.id)).all():
            db.session.add(
                Subscription(member_id=member_id, thread_id=world.thread, level=WatchLevel.WATCHING)
            )
        db.session.commit()


def hold_a_post_of_carol(app, world):
    """A new thread of Carol's waiting in the queue (held post 1)."""
    with app.app_context():
        carol = scalar(select(Member.id).where(Member.handle == "carol"))
        db.session.add(
            HeldPost(
                author_id=carol,
                board_id=world.board,
                subject="Held question",
                body_source="Held body",
                body_html="<p>Held body</p>",
                reasons="New member",
            )
        )
        db.session.commit()


def held_state():
    held = db.session.get(HeldPost, 1)
    return (held.status, held.post_id, scalar(select(func.count()).select_from(Thread)))


def site_settings_state():
    return scalar(select(SiteSettings.new_member_link_cap))


def thread_state():
    thread = db.session.get(Thread, 1)
    return (
        thread.is_locked,
        thread.is_pinned,
        thread.board_id,
        thread.solution_post_id,
        thread.subject,
        thread.post_count,
    )


def bob_state():
    bob = scalar(select(Member).where(Member.handle == "bob"))
    badges = scalar(
        select(func.count()).select_from(MemberBadge).where(MemberBadge.member_id == bob.id)
    )
    return (bob.suspended_until, bob.fixed_rank_id, bob.role, badges)


def remove_bob_as_spammer(app, world):
    from forum.moderation.services import remove_spammer

    with app.app_context():
        maude = scalar(select(Member).where(Member.handle == "maude"))
        remove_spammer(maude, scalar(select(Member).where(Member.handle == "bob")), "spam")


def bob_as_spammer():
    removed = scalar(select(func.count()).select_from(Post).where(Post.is_removed))
    return (bob_state(), removed)


def count(model):
    return lambda: scalar(select(func.count()).select_from(model))


def thread_watchers():
    return sorted(
        db.session.execute(
            select(Subscription.member_id, Subscription.level).where(Subscription.thread_id == 1)
        ).all()
    )


def alice_unread():
    return scalar(select(Member.unread_notifications).where(Member.handle == "alice"))


CASES = {
    "new thread": Case(
        "/new",
        MEMBERS,
        count(Thread),
        {"board": 1, "subject": "A new question", "body": "Body text"},
    ),
    "reply": Case("/t/1/reply", MEMBERS, count(Post), {"body": "A reply"}),
    "save reply draft": Case("/t/1/draft", MEMBERS, count(Draft), {"body": "Half a reply"}),
    "discard reply draft": Case(
        "/t/1/draft/discard", MEMBERS, count(Draft), setup=drafts_for_everyone
    ),
    "save new-thread draft": Case(
        "/new/draft", MEMBERS, count(Draft), {"board": 1, "subject": "Half", "body": ""}
    ),
    "discard new-thread draft": Case(
        "/new/draft/discard", MEMBERS, count(Draft), {"board": 1}, setup=drafts_for_everyone
    ),
    "edit opening post": Case(
        "/p/1/edit",
        ("owner", *MODERATORS),
        lambda: db.session.get(Post, 1).body_source,
        {"subject": "Edited subject", "body": "Edited body"},
    ),
    "give kudos": Case("/p/2/kudos", MEMBERS, lambda: db.session.get(Post, 2).kudos_count),
    "take back kudos": Case(
        "/p/2/kudos/take-back",
        MEMBERS,
        lambda: db.session.get(Post, 2).kudos_count,
        setup=give_kudos_from_everyone,
    ),
    "accept solution": Case("/t/1/solution", ("owner", *MODERATORS), thread_state, {"post_id": 2}),
    "report post": Case("/p/2/report", MEMBERS, count(Report), {"reason": "spam"}),
    "own settings": Case(
        "/members/settings",
        MEMBERS,
        lambda: sorted(db.session.scalars(select(Member.display_name))),
        {"display_name": "Renamed", "signature": "", "featured_badge": 0},
    ),
    "change password": Case(
        "/settings/password",
        MEMBERS,
        lambda: sorted(db.session.scalars(select(Member.password_hash))),
        {"current_password": DEFAULT_PASSWORD, "new_password": "another long passphrase"},
    ),
    "remove post": Case(
        "/moderation/posts/2/remove", MODERATORS, lambda: db.session.get(Post, 2).is_removed
    ),
    "restore post": Case(
        "/moderation/posts/2/restore",
        MODERATORS,
        lambda: db.session.get(Post, 2).is_removed,
        setup=remove_reply,
    ),
    "remove reported post": Case(
        "/moderation/reports/1/remove", MODERATORS, lambda: db.session.get(Report, 1).status
    ),
    "dismiss report": Case(
        "/moderation/reports/1/dismiss", MODERATORS, lambda: db.session.get(Report, 1).status
    ),
    "lock": Case("/moderation/threads/1/lock", MODERATORS, thread_state),
    "unlock": Case("/moderation/threads/1/unlock", MODERATORS, thread_state, setup=lock_and_pin),
    "pin": Case("/moderation/threads/1/pin", MODERATORS, thread_state),
    "unpin": Case("/moderation/threads/1/unpin", MODERATORS, thread_state, setup=lock_and_pin),
    "move": Case("/moderation/threads/1/move", MODERATORS, thread_state, {"board": 2}),
    "merge": Case(
        "/moderation/threads/2/merge",
        MODERATORS,
        merged_state,
        {"target": "/t/1-question", "reason": "duplicate"},
        setup=a_duplicate_of_thread_1,
    ),
    "suspend": Case(
        "/moderation/members/bob/suspend",
        MODERATORS,
        bob_state,
        {"suspend-days": 2, "suspend-reason": "rude"},
        prefix="suspend",
    ),
    "unsuspend": Case(
        "/moderation/members/bob/unsuspend",
        MODERATORS,
        bob_state,
        {"unsuspend-reason": "served"},
        prefix="unsuspend",
        setup=suspend_bob,
    ),
    "remove spammer": Case(
        "/moderation/members/bob/remove-spammer",
        MODERATORS,
        bob_as_spammer,
        {"reason": "spam"},
    ),
    "undo spammer removal": Case(
        "/moderation/spammers/1/undo", MODERATORS, bob_as_spammer, setup=remove_bob_as_spammer
    ),
    "fixed rank": Case(
        "/moderation/members/bob/rank",
        MODERATORS,
        bob_state,
        {"fixed-rank": 6, "fixed-reason": "veteran"},
        prefix="fixed",
    ),
    "grant badge": Case(
        "/moderation/members/bob/badges",
        MODERATORS,
        bob_state,
        {"grant-badge": 1, "grant-reason": "good"},
        prefix="grant",
    ),
    "revoke badge": Case(
        "/moderation/members/bob/badges/1/revoke",
        MODERATORS,
        bob_state,
        {"revoke-reason": "oops"},
        prefix="revoke",
        setup=grant_helper_to_bob,
    ),
    "set role": Case(
        "/moderation/members/bob/role",
        ("admin",),
        bob_state,
        {"role-role": "moderator", "role-reason": "trusted"},
        prefix="role",
    ),
    "add rank": Case(
        "/moderation/ranks", MODERATORS, count(Rank), {"name": "Legend", "min_posts": 1000}
    ),
    "edit rank": Case(
        "/moderation/ranks/1",
        MODERATORS,
        lambda: db.session.get(Rank, 1).name,
        {"name": "Newcomer", "min_posts": 0},
    ),
    "delete rank": Case("/moderation/ranks/2/delete", MODERATORS, count(Rank)),
    "create badge": Case(
        "/moderation/badges/new",
        MODERATORS,
        count(Badge),
        {"name": "Star", "colour": "#123456", "icon": "", "reason": "new", "submit": "Save badge"},
    ),
    "edit badge": Case(
        "/moderation/badges/1",
        MODERATORS,
        lambda: db.session.get(Badge, 1).name,
        {
            "name": "Great Helper",
            "colour": "#123456",
            "icon": "",
            "reason": "rename",
            "submit": "Save badge",
        },
    ),
    "retire badge": Case(
        "/moderation/badges/1/retire",
        MODERATORS,
        lambda: db.session.get(Badge, 1).is_retired,
        {"reason": "old"},
    ),
    "unretire badge": Case(
        "/moderation/badges/1/unretire",
        MODERATORS,
        lambda: db.session.get(Badge, 1).is_retired,
        {"reason": "back"},
        setup=retire_badge,
    ),
    "approve held post": Case(
        "/moderation/held/1/approve", MODERATORS, held_state, setup=hold_a_post_of_carol
    ),
    "reject held post": Case(
        "/moderation/held/1/reject",
        MODERATORS,
        held_state,
        {"reason": "spam"},
        setup=hold_a_post_of_carol,
    ),
    "reject held post as spam": Case(
        "/moderation/held/1/reject-spam", MODERATORS, held_state, setup=hold_a_post_of_carol
    ),
    "new-member settings": Case(
        "/moderation/settings",
        ("admin",),
        site_settings_state,
        {
            "held_first_posts": 1,
            "new_member_posts": 3,
            "new_member_link_cap": 5,
            "new_member_post_interval": 30,
        },
    ),
    "create board": Case("/moderation/boards/new", ("admin",), count(Board), {"name": "Agencies"}),
    "watch thread": Case("/t/1/watch/mute", MEMBERS, thread_watchers),
    "watch board": Case("/b/freelancers/watch/watch", MEMBERS, count(Subscription)),
    "mute member": Case("/members/bob/mute/mute", MEMBERS, count(MemberMute)),
    "mark notification read": Case("/notifications/1/read", ("owner",), alice_unread, refused=302),
    "mark all notifications read": Case(
        "/notifications/read-all", ("owner",), alice_unread, refused=302
    ),
    "notification settings": Case(
        "/notifications/settings",
        MEMBERS,
        count(EmailPreference),
        {"auto_watch": "y", **{f"email_{kind.value}": "daily" for kind in Kind}},
    ),
    "e-mail address": Case(
        "/settings/email",
        MEMBERS,
        count(MailDelivery),
        {"email": "new-address@example.com", "password": DEFAULT_PASSWORD},
    ),
    "create API token": Case(
        "/settings/tokens", MEMBERS, count(ApiToken), {"name": "bot", "write": "y"}, done=(201,)
    ),
    "revoke API token": Case(
        "/settings/tokens/1/revoke",
        ("owner",),
        lambda: db.session.get(ApiToken, 1).revoked_at,
        setup=token_for_alice,
        refused=302,
    ),
    "edit board": Case(
        "/moderation/boards/1",
        ("admin",),
        lambda: db.session.get(Board, 1).name,
        {"name": "Freelance", "description": "", "slug": "freelance"},
    ),
    "move board": Case(
        "/moderation/boards/2/move/up",
        ("admin",),
        lambda: tuple(db.session.scalars(select(Board.id).order_by(Board.position, Board.name))),
    ),
}
# Routes open to everyone by design, or acting only on the caller's own session, or on the
# member a signed link names (tests/notifications and tests/auth test those links).
NOT_IN_MATRIX = {
    "auth.login",
    "auth.register",
    "auth.logout",
    "auth.request_reset",
    "auth.reset_password",
    "notifications.unsubscribe",
}


@pytest.fixture
def world(app) -> World:
    owner = make_member(app, "alice", display_name="Alice A")
    bob = make_member(app, "bob", display_name="Bob B")
    for role, handle in HANDLES.items():
        if role != "owner":
            make_member(app, handle, role={"other": "member"}.get(role, role))
    with app.app_context():
        db.session.add_all(
            [
                Board(name="Freelancers", slug="freelancers", position=0),
                Board(name="Clients", slug="clients", position=1),
            ]
        )
        db.session.add(Badge(name="Helper"))
        db.session.commit()
    thread = make_thread(app, owner, 1, subject="Question", replies=1, reply_author_id=bob)
    with app.app_context():
        db.session.add(Report(post_id=1, reporter_id=bob, reason="setup report"))
        db.session.commit()
        run_pending_work()  # Bob's reply: notification 1, Alice's
    return World(thread=thread, reply=2, badge=1, report=1, rank=1, board=1)


def forged_fields_ignored(app) -> None:
    with app.app_context():
        roles = dict(db.session.execute(select(Member.handle, Member.role)).all())
        assert roles["alice"] == Role.MEMBER and roles["carol"] == Role.MEMBER
        assert scalar(select(func.max(Member.kudos_received))) < 9999
        assert scalar(select(func.max(Member.post_count))) < 9999


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(CASES))
def test_only_allowed_roles_change_anything(app, client, world, name, role):
    case = CASES[name]
    if case.setup:
        case.setup(app, world)
    with app.app_context():
        before = case.state()
    if role != "anonymous":
        login(client, HANDLES[role])
    response = post_form(client, case.url, {**FORGED, **case.data}, prefix=case.prefix)
    with app.app_context():
        after = case.state()
    if role in case.allowed:
        assert response.status_code in case.done, response.get_data(as_text=True)[:2000]
        assert after != before, f"{role} was allowed to {name} but nothing changed"
    else:
        if role == "anonymous":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/login")
        else:
            assert response.status_code == case.refused
        assert after == before, f"{role} changed something with {name}"
    forged_fields_ignored(app)


@dataclass
class ApiCase:
    """A write through the JSON API with the role's write token (anonymous: none at all)."""

    method: str
    url: str
    allowed: tuple[str, ...]
    state: Callable[[], object]
    json: dict | None = None
    setup: Callable[[object, World], None] | None = None
    refused: int = 403


API_CASES = {
    "start a thread": ApiCase(
        "POST",
        "/api/v1/threads",
        MEMBERS,
        count(Thread),
        {"board": "freelancers", "subject": "A new question", "body": "Body text"},
    ),
    "reply": ApiCase("POST", "/api/v1/threads/1/posts", MEMBERS, count(Post), {"body": "A reply"}),
    "edit opening post": ApiCase(
        "PATCH",
        "/api/v1/posts/1",
        ("owner", *MODERATORS),
        lambda: db.session.get(Post, 1).body_source,
        {"subject": "Edited subject", "body": "Edited body"},
    ),
    "give kudos": ApiCase(
        "PUT", "/api/v1/posts/2/kudos", MEMBERS, lambda: db.session.get(Post, 2).kudos_count
    ),
    "take back kudos": ApiCase(
        "DELETE",
        "/api/v1/posts/2/kudos",
        MEMBERS,
        lambda: db.session.get(Post, 2).kudos_count,
        setup=give_kudos_from_everyone,
    ),
    "accept solution": ApiCase(
        "PUT", "/api/v1/threads/1/solution", ("owner", *MODERATORS), thread_state, {"post_id": 2}
    ),
    "watch thread": ApiCase(
        "PUT", "/api/v1/threads/1/watch", MEMBERS, thread_watchers, {"level": "muted"}
    ),
    "unwatch thread": ApiCase(
        "DELETE", "/api/v1/threads/1/watch", MEMBERS, thread_watchers, setup=everyone_watches
    ),
}


def write_token(app, handle: str) -> str:
    with app.app_context():
        member = scalar(select(Member).where(Member.handle == handle))
        return tokens.create_token(member, "matrix", write=True)[1]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(API_CASES))
def test_the_api_refuses_what_the_html_app_refuses(app, client, world, name, role):
    case = API_CASES[name]
    if case.setup:
        case.setup(app, world)
    headers = (
        {}
        if role == "anonymous"
        else {"Authorization": f"Bearer {write_token(app, HANDLES[role])}"}
    )
    with app.app_context():
        before = case.state()
    response = client.open(case.url, method=case.method, json=case.json or {}, headers=headers)
    with app.app_context():
        after = case.state()
    if role in case.allowed:
        assert response.status_code in (200, 201), response.get_data(as_text=True)[:2000]
        assert after != before, f"{role} was allowed to {name} but nothing changed"
    else:
        assert response.status_code == (401 if role == "anonymous" else case.refused)
        assert response.mimetype == "application/problem+json"
        assert after == before, f"{role} changed something with {name}"


def test_every_state_changing_route_is_in_the_matrix(app):
    covered = {("POST", case.url) for case in CASES.values()}
    covered |= {(case.method, case.url) for case in API_CASES.values()}
    adapter = app.url_map.bind("localhost")
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        for method in {"POST", "PUT", "PATCH", "DELETE"} & (rule.methods or set()):
            if not any(
                m == method and adapter.match(url, method=m)[0] == rule.endpoint
                for m, url in covered
            ):
                missing.append(f"{method} {rule.rule}")
    assert missing == []
