"""Registering in a real browser with JavaScript switched off: the spam defences (forum.auth.defences)
need none, and the trap field stays out of a person's sight and keyboard path.

The servers of the browser tests run with REGISTRATION_MIN_SECONDS=0 (tests/servers.py): waiting
out a minimum time in a browser would need a sleep or a server clock, so the time check is tested
with signed stamps in tests/auth/test_registration_defences.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.actions import banner, new_person, register

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
