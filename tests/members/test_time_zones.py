"""Time zones: the member's setting, the browser's cookie, and every page's times in the viewer's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from forum.errors import InvalidInput
from forum.extensions import db
from forum.members.services import check_time_zone, update_settings
from forum.models import Member, Post, Thread
from tests.builders import make_member, make_thread
from tests.databases import count_queries
from tests.pages import login, post_form

POSTED = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
MACHINE = '<time datetime="2026-12-03T13:05:00Z">'


def test_a_time_zone_is_an_iana_name():
    assert check_time_zone("Asia/Tokyo") == "Asia/Tokyo"
    assert check_time_zone("UTC") == "UTC"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "asia/tokyo", "localtime", "../../etc/passwd", "Asia/Tokyo\x00"]
)
def test_an_unknown_time_zone_is_refused_with_a_message_that_says_so(name):
    with pytest.raises(InvalidInput, match="is not a time zone we know"):
        check_time_zone(name)


def settings(**changes) -> dict:
    return {"display_name": "Alice A", "signature": "", "featured_badge": "0", **changes}


def time_zone_of(app, member_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Member, member_id).time_zone


def test_a_member_saves_a_time_zone_in_settings(app, client, member):
    login(client, "alice")
    response = post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    assert response.headers["Location"] == "/members/alice"
    assert time_zone_of(app, member) == "Asia/Tokyo"


def test_a_bad_time_zone_is_shown_beside_the_field_and_nothing_is_saved(app, client, member):
    login(client, "alice")
    response = post_form(
        client, "/members/settings", settings(time_zone="Mars/Olympus", display_name="Changed")
    )
    assert response.status_code == 400
    assert "“Mars/Olympus” is not a time zone we know" in response.get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(Member, member)
        assert (saved.time_zone, saved.display_name) == (None, "Alice A")


def test_the_service_refuses_a_bad_time_zone(app, member):
    with app.app_context(), pytest.raises(InvalidInput):
        update_settings(
            db.session.get(Member, member),
            display_name="Alice A",
            signature="",
            featured_badge_id=None,
            time_zone="Nowhere/Special",
        )


def test_a_settings_form_without_the_field_keeps_the_zone(app, client, member):
    login(client, "alice")
    post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    post_form(client, "/members/settings", settings(display_name="Alice Again"))
    assert time_zone_of(app, member) == "Asia/Tokyo"


def selected_zone(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="time_zone".*?</select>', html, flags=re.S)[0]
    return re.findall(r'<option selected value="([^"]+)"', select)


def test_settings_preselect_the_browsers_zone_for_a_member_who_has_none(app, client, member):
    login(client, "alice")
    client.set_cookie("tz", "America/New_York")
    html = client.get("/members/settings").get_data(as_text=True)
    assert selected_zone(html) == ["America/New_York"]
    assert "data-browser-zone" in html  # the script may still pick the browser's zone
    assert time_zone_of(app, member) is None  # showing it saves nothing


def test_settings_show_the_chosen_zone_over_the_browsers(app, client, member):
    login(client, "alice")
    post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    client.set_cookie("tz", "America/New_York")
    html = client.get("/members/settings").get_data(as_text=True)
    assert selected_zone(html) == ["Asia/Tokyo"]
    assert "data-browser-zone" not in html


# ---- pages -------------------------------------------------------------------------------------


@pytest.fixture
def thread(app, member, board) -> int:
    """Alice's thread, posted at a known moment: Dec 3, 2026 13:05 UTC."""
    thread_id = make_thread(app, member, board, subject="When?")
    with app.app_context():
        db.session.execute(update(Post).values(created_at=POSTED))
        db.session.execute(update(Thread).values(last_posted_at=POSTED, created_at=POSTED))
        db.session.commit()
    return thread_id


def first_post(client, thread: int) -> str:
    html = client.get(f"/t/{thread}-when").get_data(as_text=True)
    return html[html.index("<article") : html.index("</article>")]


def test_a_member_in_tokyo_sees_the_post_time_in_jst(app, client, member, thread):
    login(client, "alice")
    post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    client.set_cookie("tz", "Europe/Berlin")  # their choice wins over the browser's
    assert f"{MACHINE}Dec 3, 2026 10:05 PM JST</time>" in first_post(client, thread)


def test_a_visitor_sees_times_in_the_zone_their_browser_set_in_the_cookie(client, thread):
    client.set_cookie("tz", "Europe/Berlin")
    assert f"{MACHINE}Dec 3, 2026 2:05 PM CET</time>" in first_post(client, thread)
    client.set_cookie("tz", "America/New_York")  # the cached post block is kept per zone
    assert f"{MACHINE}Dec 3, 2026 8:05 AM EST</time>" in first_post(client, thread)


def test_without_the_cookie_times_are_utc_and_say_so(client, thread):
    assert f"{MACHINE}Dec 3, 2026 1:05 PM UTC</time>" in first_post(client, thread)


@pytest.mark.parametrize(
    "cookie",
    [
        "Mars/Olympus",
        "../../../etc/passwd",
        "localtime",
        "Asia/" + "x" * 3000,
        "%00",
        '"Asia/Tokyo',
    ],
)
def test_a_bad_cookie_is_ignored(client, thread, cookie):
    client.set_cookie("tz", cookie)
    response = client.get(f"/t/{thread}-when")
    assert response.status_code == 200
    assert "Dec 3, 2026 1:05 PM UTC" in response.get_data(as_text=True)


def test_a_member_who_has_not_chosen_follows_the_browser(client, member, thread):
    login(client, "alice")
    client.set_cookie("tz", "Asia/Tokyo")
    assert "Dec 3, 2026 10:05 PM JST" in first_post(client, thread)


def test_an_edited_post_says_when_in_the_viewers_zone(app, client, thread):
    with app.app_context():
        db.session.execute(update(Post).values(edited_at=POSTED))
        db.session.commit()
    client.set_cookie("tz", "Asia/Tokyo")
    assert f"Edited {MACHINE}Dec 3, 2026 10:05 PM JST</time>" in first_post(client, thread)


def test_the_thread_page_costs_no_query_more_in_a_chosen_zone(app, client, member, thread):
    login(client, "alice")

    def queries() -> int:
        with count_queries(app) as statements:
            assert client.get(f"/t/{thread}-when").status_code == 200
        return len(statements)

    queries()  # the first view also records how far Alice has read
    before = queries()
    post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    assert queries() == before


def test_every_page_that_shows_times_shows_the_viewers_zone(app, client, member, thread):
    """Board, home, profile, search, reports and audit log (a moderator), notifications (Alice)."""
    from forum.moderation import services as moderation
    from forum.tasks import run_pending_work
    from forum.threads import services as threads

    moderator = make_member(app, "maude", role="moderator")
    with app.app_context():
        threads.reply(db.session.get(Member, moderator), db.session.get(Thread, thread), "Hi")
        moderation.report_post(
            db.session.get(Member, moderator), db.session.scalar(select(Post)), "spam"
        )
        moderation.set_thread_flag(
            db.session.get(Member, moderator), db.session.get(Thread, thread), "is_locked", True
        )
        run_pending_work()
    login(client, "maude")
    post_form(client, "/members/settings", settings(display_name="Maude M", time_zone="Asia/Tokyo"))
    for url in [
        "/b/freelancers",
        "/",
        "/members/alice",
        "/search?q=opening",
        "/moderation/reports",
    ]:
        html = client.get(url).get_data(as_text=True)
        assert "JST" in html and re.search(r'<time datetime="[0-9T:-]+Z"', html), url
        assert " UTC<" not in html, url
    assert "JST</time>" in client.get("/moderation/audit").get_data(as_text=True)
    post_form(client, "/logout")
    login(client, "alice")
    post_form(client, "/members/settings", settings(time_zone="Asia/Tokyo"))
    assert "JST</time>" in client.get("/notifications").get_data(as_text=True)
