"""Registration defences: the honeypot, the minimum time to fill the form, the daily cap per
address; one message for every refusal, nothing created, and the refusals in the moderators' log."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from forum.database import utcnow
from forum.errors import RegistrationRefused
from forum.extensions import db
from forum.models import Member, Refusal, RefusedRegistration, Registration
from tests.builders import DEFAULT_PASSWORD, make_member
from tests.databases import db_count, db_scalar
from tests.pages import login, post_form
from tests.workers import run_workers

ADDRESS, OTHER_ADDRESS = "203.0.113.5", "198.51.100.7"
REFUSED = RegistrationRefused(None).args[0]


def stamp(app, seconds_ago: float) -> str:
    """The register form's stamp as the server signs it, for a form shown that long ago."""
    from forum.auth.defences import form_stamp

    with app.app_context():
        return form_stamp(time.time() - seconds_ago)


def register(client, handle="newbie", address=ADDRESS, **fields):
    data = {
        "handle": handle,
        "display_name": "New B",
        "email": f"{handle}@example.com",
        "password": DEFAULT_PASSWORD,
        **fields,
    }
    return post_form(client, "/register", data, environ_base={"REMOTE_ADDR": address})


def refusal_message(html: str) -> str | None:
    match = re.search(r'<p class="form-error" role="alert">(.*?)</p>', html, flags=re.S)
    return unescape(match[1]) if match else None


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag[0])
    return unescape(value[1]) if value else None


def refusals(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(RefusedRegistration).order_by(RefusedRegistration.id))
        return [(r.reason.value, r.handle, r.email_domain, r.address_hash) for r in rows]


@pytest.fixture
def timed(app):
    """The time check on, at a minute: a stamp must be signed longer ago to pass."""
    app.config["REGISTRATION_MIN_SECONDS"] = 60
    return app


def test_a_person_who_took_their_time_registers(client, timed):
    response = register(client, stamp=stamp(timed, 61))
    assert response.headers["Location"] == "/"
    assert db_count(timed, Member, Member.handle == "newbie") == 1


def test_the_form_carries_a_fresh_signed_stamp_and_an_empty_trap_field(client, timed):
    html = client.get("/register").get_data(as_text=True)
    assert input_value(html, "website") in (None, "")
    assert re.search(r'<div class="trap" aria-hidden="true">', html)
    trap = re.search(r'<input [^>]*name="website"[^>]*>', html)[0]
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    from forum.auth.defences import _stamps

    with timed.app_context():
        issued = _stamps().loads(input_value(html, "stamp"))
    assert abs(issued - time.time()) < 3600  # it is a time, signed by the server


def test_a_filled_honeypot_is_refused(client, timed):
    response = register(client, stamp=stamp(timed, 61), website="http://spam.example")
    assert refusal_message(response.get_data(as_text=True)) == REFUSED
    assert refusals(timed)[0][0] == "honeypot"


def test_a_form_sent_sooner_than_the_minimum_is_refused(client, timed):
    html = client.get("/register").get_data(as_text=True)
    response = register(client, stamp=input_value(html, "stamp"))  # sent at once
    assert response.status_code == 200
    assert refusal_message(response.get_data(as_text=True)) == REFUSED
    assert register(client, stamp=stamp(timed, 30)).status_code == 200
    assert [row[0] for row in refusals(timed)] == ["too-fast", "too-fast"]


def _forged_stamp(app, kind: str) -> str | None:
    from forum.auth.defences import _stamps

    with app.app_context():
        return {
            "missing": None,
            "empty": "",
            "garbage": "not-a-stamp",
            "other key": URLSafeSerializer("another key", salt="forum.register-form").dumps(
                time.time() - 600
            ),
            "not a time": _stamps().dumps([1, 2]),
            "over a day old": _stamps().dumps(time.time() - 86400 - 600),
        }[kind]


@pytest.mark.parametrize(
    "kind", ["missing", "empty", "garbage", "other key", "not a time", "over a day old"]
)
def test_a_missing_forged_or_expired_stamp_is_refused(client, timed, kind):
    forged = _forged_stamp(timed, kind)
    response = register(client, **({} if forged is None else {"stamp": forged}))
    assert refusal_message(response.get_data(as_text=True)) == REFUSED
    assert [row[0] for row in refusals(timed)] == ["stamp"]


def test_a_form_shown_again_keeps_its_valid_stamp_so_a_quick_fix_is_not_too_fast(client, timed):
    shown = stamp(timed, 61)
    response = register(client, stamp=shown, password="short")
    assert response.status_code == 400 and refusal_message(response.get_data(as_text=True)) is None
    kept = input_value(response.get_data(as_text=True), "stamp")
    assert kept == shown
    assert register(client, stamp=kept).headers["Location"] == "/"


def test_a_forged_stamp_is_replaced_by_a_fresh_one_that_still_needs_the_wait(client, timed):
    html = register(client, stamp="forged").get_data(as_text=True)
    fresh = input_value(html, "stamp")
    assert fresh != "forged"
    assert register(client, stamp=fresh).status_code == 200
    assert [row[0] for row in refusals(timed)] == ["stamp", "too-fast"]


def test_min_seconds_zero_switches_the_time_check_off(client, app):
    assert app.config["REGISTRATION_MIN_SECONDS"] == 0  # the tests' config
    assert register(client).headers["Location"] == "/"


def test_an_address_registers_its_daily_quota_and_then_is_refused(app):
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 2
    for handle in ("first", "second"):
        assert register(app.test_client(), handle).headers["Location"] == "/"
    response = register(app.test_client(), "third")
    assert response.status_code == 200
    assert refusal_message(response.get_data(as_text=True)) == REFUSED
    assert db_count(app, Member, Member.handle == "third") == 0
    assert register(app.test_client(), "elsewhere", OTHER_ADDRESS).headers["Location"] == "/"
    assert [row[0] for row in refusals(app)] == ["address-cap"]


def test_the_cap_counts_only_the_last_24_hours_and_prunes_older_rows(app):
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 1
    from forum.auth.defences import address_hash

    with app.app_context():
        hashed = address_hash(ADDRESS)
        db.session.add(Registration(address_hash=hashed, created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    assert register(app.test_client(), "fresh").headers["Location"] == "/"
    with app.app_context():
        ages = db.session.scalars(select(Registration.created_at)).all()
    assert len(ages) == 1 and utcnow() - ages[0] < timedelta(hours=1)
    assert register(app.test_client(), "again").status_code == 200


def test_a_cap_of_zero_means_no_cap(app):
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 0
    for handle in ("one", "two", "three"):
        assert register(app.test_client(), handle).headers["Location"] == "/"
    assert db_count(app, Registration) == 0


def test_no_raw_address_is_stored(app):
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 1
    register(app.test_client(), "counted")
    register(app.test_client(), "refused", website="x")
    register(app.test_client(), "capped")
    with app.app_context():
        stored = db.session.scalars(select(Registration.address_hash)).all()
        logged = db.session.scalars(select(RefusedRegistration.address_hash)).all()
    assert len(stored) == 1 and len(logged) == 2
    for value in stored + logged:
        assert ADDRESS not in value and re.fullmatch(r"[0-9a-f]{64}", value)
    assert len(set(stored + logged)) == 1  # one address, one hash: refusals can be grouped


def test_every_refusal_shows_the_same_page_and_keeps_the_typing_but_not_the_password(app):
    app.config["REGISTRATION_MIN_SECONDS"] = 60
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 1
    assert register(app.test_client(), "taken", stamp=stamp(app, 61)).status_code == 302
    typed = {"display_name": "Spam Bot", "email": "bot@spam.example"}
    refused = {
        "honeypot": register(
            app.test_client(), "botty", OTHER_ADDRESS, website="x", stamp=stamp(app, 61), **typed
        ),
        "too fast": register(
            app.test_client(), "botty", OTHER_ADDRESS, stamp=stamp(app, 1), **typed
        ),
        "forged": register(app.test_client(), "botty", OTHER_ADDRESS, stamp="forged", **typed),
        "cap": register(app.test_client(), "botty", ADDRESS, stamp=stamp(app, 61), **typed),
    }
    pages = {}
    for name, response in refused.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert refusal_message(html) == REFUSED, name
        assert input_value(html, "handle") == "botty"
        assert input_value(html, "display_name") == "Spam Bot"
        assert input_value(html, "email") == "bot@spam.example"
        assert input_value(html, "password") in (None, "")
        assert input_value(html, "website") in (None, "")  # the trap starts empty again
        assert input_value(html, "stamp") not in ("forged", None)  # a valid one for next time
        # Apart from the form's tokens, the pages are byte for byte the same.
        pages[name] = re.sub(r'(name="(?:csrf_token|stamp)"[^>]*value=")[^"]*', r"\1", html)
    assert len(set(pages.values())) == 1
    for word in ("honeypot", "fast", "second", "address", "limit", "quota", "stamp", "robot"):
        assert word not in REFUSED.lower()
    assert db_count(app, Member, Member.handle == "botty") == 0
    assert db_count(app, Registration) == 1  # the one real registration


def test_refusals_are_logged_with_the_email_domain_only(app):
    register(app.test_client(), "spammer", website="x", email="someone.private@Spam.Example")
    [(reason, handle, domain, _hash)] = refusals(app)
    assert (reason, handle, domain) == ("honeypot", "spammer", "spam.example")
    assert "someone.private" not in str(refusals(app))


def test_refusals_older_than_30_days_are_pruned_and_never_listed(app, client, moderator):
    with app.app_context():
        db.session.add(
            RefusedRegistration(
                reason=Refusal.STAMP,
                handle="ancient",
                address_hash="0" * 64,
                created_at=utcnow() - timedelta(days=31),
            )
        )
        db.session.commit()
    login(client, "maude")
    assert "ancient" not in client.get("/moderation/registrations").get_data(as_text=True)
    register(app.test_client(), "recent", website="x")
    assert [row[1] for row in refusals(app)] == ["recent"]


def test_moderators_see_refusals_newest_first(app, client, moderator):
    app.config["REGISTRATION_MIN_SECONDS"] = 60
    register(app.test_client(), "trapped", website="x", stamp=stamp(app, 61))
    register(app.test_client(), "hasty", stamp=stamp(app, 1))
    login(client, "maude")
    html = client.get("/moderation/registrations").get_data(as_text=True)
    assert html.index("hasty") < html.index("trapped")
    assert "Too fast" in html and "Trap field filled" in html
    assert "hasty@example.com" not in html and "example.com" in html
    assert ADDRESS not in html
    nav = client.get("/moderation/audit").get_data(as_text=True)
    assert 'href="/moderation/registrations"' in nav


def test_the_refusal_log_is_for_moderators_only(app, client, member):
    register(app.test_client(), "trapped", website="x")
    assert client.get("/moderation/registrations").headers["Location"].startswith("/login")
    login(client, "alice")
    response = client.get("/moderation/registrations")
    assert response.status_code == 403
    assert "trapped" not in response.get_data(as_text=True)
    make_member(app, "boss", role="admin")
    admin = app.test_client()
    login(admin, "boss")
    assert "trapped" in admin.get("/moderation/registrations").get_data(as_text=True)


def test_an_empty_refusal_log_says_so(client, moderator):
    login(client, "maude")
    html = client.get("/moderation/registrations").get_data(as_text=True)
    assert "Nothing refused in the last 30 days." in html


def test_members_created_by_the_cli_are_not_counted_against_an_address(app):
    app.config["REGISTRATIONS_PER_IP_PER_DAY"] = 1
    from forum.auth.services import register as register_member

    with app.app_context():
        register_member("admin-made", "Made", DEFAULT_PASSWORD)
    assert db_scalar(app, select(Registration.id)) is None


def register_from_one_address_job(report: dict, worker: int, cap: int) -> None:
    """Register a handful of members from one address (run in its own process); any error but
    the cap's refusal reaches the test through the worker's report."""
    from flask import current_app

    from forum.auth import defences
    from forum.auth.services import register as register_member

    current_app.config["REGISTRATIONS_PER_IP_PER_DAY"] = cap
    report.update(registered=0, refused=0)
    for n in range(4):
        try:
            register_member(
                f"racer-{worker}-{n}",
                "Racer",
                DEFAULT_PASSWORD,
                address_hash=defences.address_hash(ADDRESS),
            )
        except RegistrationRefused:
            report["refused"] += 1
        else:
            report["registered"] += 1


def test_registrations_racing_from_one_address_stay_within_the_cap(app, tmp_path):
    reports = run_workers(
        app, tmp_path, [(register_from_one_address_job, (w, 5)) for w in range(4)]
    )
    assert sum(r["registered"] for r in reports) == 5
    assert sum(r["refused"] for r in reports) == 11
    assert db_count(app, Member) == 5 and db_count(app, Registration) == 5
