"""Accessibility in a real browser: axe-core finds nothing serious, and posts read well to a screen reader."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import (
    DEMO_BOARD,
    MODERATOR,
    banner,
    log_in,
    open_demo_thread,
    post_article,
)

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
  }));
}"""


def axe_violations(page: Page, axe_source: str) -> list[dict]:
    """Run axe-core on the page as it stands; its violations, most severe kinds only."""
    page.evaluate(axe_source)  # evaluated, not a <script>: the CSP allows no other script
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            lines.extend(f"      {line}" for line in node["summary"].splitlines())
    return "\n".join(lines)


def boards(page: Page) -> None:
    page.goto("/")


def board_list(page: Page) -> None:
    """The threads of one board."""
    page.goto("/")
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()


def thread_page(page: Page) -> None:
    open_demo_thread(page)


def thread_page_for_a_moderator(page: Page) -> None:
    """Every control a post can carry: kudos, quote, edit, remove, and the quick-reply form."""
    log_in(page, MODERATOR)
    open_demo_thread(page)


def search_results(page: Page) -> None:
    page.goto("/")
    box = banner(page).get_by_role("search").get_by_label("Search the community")
    box.fill("intervew")
    box.press("Enter")
    expect(page.get_by_text("Showing results for")).to_be_visible()


def profile(page: Page) -> None:
    open_demo_thread(page)
    post_article(page, 2, 6).get_by_role("link", name="John K").click()


def new_thread(page: Page) -> None:
    log_in(page, MODERATOR)
    board_list(page)
    page.get_by_role("link", name="Ask a question").click()


def unanswered(page: Page) -> None:
    """The cross-board list with its tabs, reached from the header."""
    page.goto("/")
    banner(page).get_by_role("link", name="Unanswered").click()
    page.get_by_role("link", name="No accepted solution").click()
    expect(page.get_by_role("link", name="No accepted solution")).to_have_attribute(
        "aria-current", "page"
    )


def remove_spammer_confirmation(page: Page) -> None:
    """A moderator on a profile's "Remove spammer…" link: the page saying what it will do."""
    log_in(page, MODERATOR)
    profile(page)
    page.get_by_role("link", name="Remove spammer…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("as a spammer?")


def login_page(page: Page) -> None:
    page.goto("/")
    banner(page).get_by_role("link", name="Log in").click()


def register_page(page: Page) -> None:
    """The register form, with its trap field for spam robots (hidden from people)."""
    page.goto("/")
    banner(page).get_by_role("link", name="Register").click()


def refused_registrations(page: Page) -> None:
    log_in(page, MODERATOR)
    page.goto("/moderation/audit")
    page.get_by_role("navigation", name="Moderation").get_by_role(
        "link", name="Refused registrations"
    ).click()
    expect(page.get_by_role("heading", name="Refused registrations")).to_be_visible()


PAGES: dict[str, Callable[[Page], None]] = {
    "boards": boards,
    "board-list": board_list,
    "thread": thread_page,
    "thread-moderator": thread_page_for_a_moderator,
    "search-results": search_results,
    "profile": profile,
    "new-thread": new_thread,
    "unanswered": unanswered,
    "login": login_page,
    "remove-spammer": remove_spammer_confirmation,
    "register": register_page,
    "refused-registrations": refused_registrations,
}


@pytest.mark.parametrize("open_page", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_serious_accessibility_violations(axe_source: str, page: Page, open_page):
    open_page(page)

    violations = axe_violations(page, axe_source)

    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"


def test_each_post_is_an_article_named_by_a_heading_with_position_and_author(page: Page):
    open_demo_thread(page)

    expect(page.get_by_role("article")).to_have_count(6)
    second = post_article(page, 2, 6)
    name = "Re: What does interview mean on Upwork? — 2 of 6, by John K, Community Guru"
    expect(second).to_have_accessible_name(name)
    expect(second.get_by_role("heading", level=2)).to_have_accessible_name(name)
