"""Time zones in a real browser: a fresh browser's own zone by default, a member's choice over it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.actions import log_in, new_person, open_demo_thread, post_article, register

pytestmark = pytest.mark.browser

NEW_YORK = re.compile(r"^\w{3} \d+, \d{4} \d+:\d\d [AP]M E[SD]T$")
TOKYO = re.compile(r"^\w{3} \d+, \d{4} \d+:\d\d [AP]M JST$")


def first_post_time(page):
    return post_article(page, 1, 6).locator(".post-meta time")


def test_a_visitor_sees_utc_on_the_first_page_and_their_own_zone_after_it(new_context):
    page = new_context(timezone_id="America/New_York").new_page()
    open_demo_thread(page)  # the home page, drawn before the browser said its zone, set the cookie
    expect(first_post_time(page)).to_have_text(NEW_YORK)
    expect(first_post_time(page)).to_have_attribute("datetime", re.compile(r"Z$"))
    page.context.clear_cookies()
    page.reload()  # the page the script runs on is drawn in UTC, and says so
    expect(first_post_time(page)).to_have_text(re.compile(r" UTC$"))


def test_the_settings_select_starts_at_the_browsers_zone_and_a_saved_zone_wins(new_context):
    page = new_context(timezone_id="America/New_York").new_page()
    person = new_person("traveller")
    register(page, person)
    page.goto("/members/settings")
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your settings are saved.")).to_be_visible()
    open_demo_thread(page)
    expect(first_post_time(page)).to_have_text(TOKYO)  # the choice, not the browser's zone

    elsewhere = new_context(timezone_id="Europe/Berlin").new_page()
    log_in(elsewhere, person)
    open_demo_thread(elsewhere)
    expect(first_post_time(elsewhere)).to_have_text(TOKYO)


def test_the_script_selects_the_browsers_zone_when_the_server_had_no_cookie(new_context):
    page = new_context(timezone_id="America/New_York").new_page()
    register(page, new_person("newcomer"))
    page.context.clear_cookies(name="tz")
    page.goto("/members/settings")
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
