"""Registering in a real browser with JavaScript off: the spam defences (forum.auth.defences) need
none, and the trap field stays out of a person's sight and keyboard path.

The session's servers run with REGISTRATION_MIN_SECONDS=0 (tests/servers.py); one server of this
module times the form (3 seconds, the default), and the person simply sends it again until it is
accepted: the re-shown form keeps its stamp, so no sleep is needed.
tests/auth/test_registration_defences.py tests each defence exactly, with stamps signed for chosen
times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.actions import MODERATOR, banner, log_in, new_person, register
from tests.servers import forum_env, gunicorn, run_flask

pytestmark = pytest.mark.browser

TRAP_LABEL = "Leave this empty"


def test_a_person_registers_with_javascript_switched_off(new_context):
    page = new_context(java_script_enabled=False).new_page()
    person = new_person("nojs")
    register(page, person)
    expect(page.get_by_text(f"Welcome, {person.display_name}!")).to_be_visible()
    expect(banner(page).get_by_role("link", name=person.display_name)).to_be_visible()


def test_the_trap_field_is_off_screen_and_skipped_by_the_tab_key(page):
    page.goto("/register")
    trap = page.locator("input[name=website]")
    box = trap.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # drawn, but left of the page
    expect(page.get_by_role("textbox", name=TRAP_LABEL)).to_have_count(0)  # aria-hidden
    page.get_by_label("Password").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create account")).to_be_focused()


def test_a_robot_filling_the_trap_is_refused_and_moderators_see_it(new_context):
    robot = new_person("robot")
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/register")
    page.get_by_label("Handle").fill(robot.handle)
    page.get_by_label("Display name").fill(robot.display_name)
    page.get_by_label("E-mail address").fill(robot.email)
    page.get_by_label("Password").fill(robot.password)
    page.locator("input[name=website]").fill("https://spam.example")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("alert")).to_have_text(re.compile("could not create your account"))
    expect(page.get_by_label("Handle")).to_have_value(robot.handle)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(banner(page).get_by_role("link", name="Register")).to_be_visible()

    moderator = new_context().new_page()
    log_in(moderator, MODERATOR)
    moderator.goto("/moderation/registrations")
    row = moderator.get_by_role("row").filter(has_text=robot.handle)
    expect(row).to_contain_text("Trap field filled")
    expect(row).to_contain_text("example.com")


@pytest.fixture(scope="module")
def timed_forum(chromium: Browser, tmp_path_factory) -> Iterator[str]:
    """A forum (SQLite, one worker) whose register form must be open 3 seconds (the default)."""
    workdir = tmp_path_factory.mktemp("forum-timed")
    env = forum_env(
        f"sqlite:///{workdir / 'forum.db'}",
        workdir,
        FORUM_RATELIMIT_ENABLED="0",
        FORUM_REGISTRATION_MIN_SECONDS="3",  # the default
    )
    run_flask(env, workdir, "db", "upgrade")
    with gunicorn(env, workdir, workers=1) as base_url:
        yield base_url


def test_a_person_registers_without_javascript_once_the_minimum_time_has_passed(
    chromium: Browser, timed_forum: str
):
    context = chromium.new_context(base_url=timed_forum, java_script_enabled=False)
    server_errors = []
    context.on("response", lambda r: r.status >= 500 and server_errors.append(r.url))
    page = context.new_page()
    person = new_person("patient")
    page.goto("/register")
    page.get_by_label("Handle").fill(person.handle)
    page.get_by_label("Display name").fill(person.display_name)
    page.get_by_label("E-mail address").fill(person.email)
    welcome = page.get_by_text(f"Welcome, {person.display_name}!")
    for _attempt in range(1000):  # each a round trip to the server, until 3 seconds have passed
        page.get_by_label("Password").fill(person.password)  # never shown again
        page.get_by_role("button", name="Create account").click()
        page.wait_for_load_state()
        if welcome.count():
            break
        expect(page.get_by_role("alert")).to_have_text(re.compile("could not create your account"))
        expect(page.get_by_label("Handle")).to_have_value(person.handle)
    expect(welcome).to_be_visible()
    expect(banner(page).get_by_role("link", name=person.display_name)).to_be_visible()
    context.close()
    assert server_errors == []
