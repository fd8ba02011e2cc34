"""Tests for forum.markup: what a post's Markdown becomes, and what can never come out of it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from forum import markup
from forum.markup import (
    EMOTICON_PATH,
    EMOTICONS,
    MAX_EMOTICONS,
    MAX_HIGHLIGHTED_CODE,
    MAX_MENTIONS,
    count_links,
    plain_text,
    quote_for_reply,
    render_markdown,
)

ATTACK = Path(__file__).parent / "data" / "attack"
STATIC = Path(__file__).parents[1] / "static"
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "svg", "style", "form", "input"}
LINK_SCHEMES = {"http", "https", "mailto"}
# Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


class _Audit(HTMLParser):
    """Collects everything in rendered HTML that could run script or leave the allowed schemes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            url = _IGNORED_IN_URL.sub("", value or "")
            scheme = _SCHEME.match(url)
            if name.startswith("on") or name == "style":
                self.problems.append(f"{name} attribute on <{tag}>")
            elif name == "href" and scheme and scheme[1].lower() not in LINK_SCHEMES:
                self.problems.append(f"href {value!r}")
            elif name == "src" and not url.startswith(("https://", EMOTICON_PATH)):
                self.problems.append(f"src {value!r}")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def test_render_returns_markup_so_templates_need_no_safe_filter():
    assert isinstance(render_markdown("*hi*"), Markup)


def test_typed_html_is_shown_as_text():
    html = render_markdown("<b>bold</b>")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>" not in html


def test_script_tag_never_survives():
    html = render_markdown("<script>alert(1)</script>\n\n<SCRIPT SRC=//x.y/z.js></SCRIPT>")
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](jav&#x61;script:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox(1))",
        "[x]\n\n[x]: javascript:alert(1)",
    ],
)
def test_dangerous_link_schemes_are_dropped(source):
    html = render_markdown(source)
    assert audit(html) == []
    assert "href" not in html


def test_links_get_rel_nofollow_ugc_noopener():
    html = render_markdown("[site](http://example.com/)")
    assert '<a href="http://example.com/" rel="nofollow ugc noopener">site</a>' in html


def test_http_images_are_dropped():
    assert "<img" not in render_markdown("![cat](http://example.com/cat.png)")


def test_data_uri_images_are_dropped():
    assert "<img" not in render_markdown("![dot](data:image/png;base64,iVBORw0KGgo=)")


def test_https_images_load_lazily_without_referrer():
    html = render_markdown("![cat](https://example.com/cat.png)")
    assert '<img src="https://example.com/cat.png" alt="cat"' in html
    assert 'loading="lazy"' in html
    assert 'referrerpolicy="no-referrer"' in html


def test_bare_url_is_linked():
    html = render_markdown("see https://example.com/help for more")
    assert '<a href="https://example.com/help" rel="nofollow ugc noopener">' in html


@pytest.mark.parametrize(
    ("code", "alt"),
    [
        (":)", "Smiley Happy"),
        (":(", "Smiley Sad"),
        (";)", "Smiley Wink"),
        (":D", "Smiley Very Happy"),
        (":P", "Smiley Tongue"),
    ],
)
def test_emoticon_becomes_image_with_its_name_as_alt_text(code, alt):
    html = render_markdown(f"thanks {code}")
    stem = EMOTICONS[code][0]
    assert f'<img class="emoticon" src="/static/emoticons/{stem}.svg" alt="{alt}"' in html
    assert f'title="{alt}" width="16" height="16"' in html


def test_every_emoticon_has_its_image_in_static():
    missing = {stem for stem, _ in EMOTICONS.values()} - {
        path.stem for path in (STATIC / "emoticons").glob("*.svg")
    }
    assert missing == set()


def test_emoticons_stay_literal_in_code_spans():
    assert render_markdown("use `:)` here") == "<p>use <code>:)</code> here</p>\n"


def test_emoticons_stay_literal_in_fenced_code():
    html = render_markdown("```\nprint(':D')\n:)\n```")
    assert "<img" not in html
    assert ":)" in html


@pytest.mark.parametrize(
    ("source", "href"),
    [("see http://x.y/:D", "http://x.y/:D"), ("[a](http://a/:P)", "http://a/:P")],
)
def test_emoticons_stay_literal_in_links_and_urls(source, href):
    html = render_markdown(source)
    assert f'href="{href}"' in html
    assert "emoticon" not in html


@pytest.mark.parametrize("source", ["std::Pair", "foo:Duck", "a:)b", "http:Post"])
def test_emoticons_need_a_boundary_around_them(source):
    assert "<img" not in render_markdown(source)


def test_emoticons_beyond_the_cap_stay_text():
    html = render_markdown(":) " * (MAX_EMOTICONS + 5))
    assert html.count("<img") == MAX_EMOTICONS


def test_mention_of_a_member_links_to_the_lowercased_profile():
    html = render_markdown("thanks @John_K!", member_exists=lambda handle: handle == "john_k")
    assert (
        '<a href="/members/john_k" class="mention" rel="nofollow ugc noopener">@John_K</a>' in html
    )


def test_mention_of_an_unknown_handle_stays_text():
    html = render_markdown("thanks @nobody", member_exists=lambda handle: False)
    assert html == "<p>thanks @nobody</p>\n"


def test_every_valid_mention_is_linked_without_a_lookup():
    assert 'href="/members/anyone"' in render_markdown("hi @anyone")


@pytest.mark.parametrize("source", ["@ab is too short", "@" + "a" * 31 + " is too long"])
def test_handles_outside_3_to_30_characters_are_no_mentions(source):
    assert "mention" not in render_markdown(source)


def test_email_address_is_no_mention():
    html = render_markdown("write to jane@example.com", member_exists=lambda handle: True)
    assert "mention" not in html
    assert 'href="mailto:jane@example.com"' in html


def test_mentions_stay_literal_in_code():
    assert "mention" not in render_markdown("`@admin` and\n\n    @admin\n")


def test_each_handle_is_looked_up_once():
    asked: list[str] = []
    render_markdown("@jane @Jane @JANE", member_exists=lambda handle: asked.append(handle) or True)
    assert asked == ["jane"]


def test_mentions_beyond_the_cap_stay_text():
    html = render_markdown("@jane " * (MAX_MENTIONS + 5))
    assert html.count('class="mention"') == MAX_MENTIONS


def test_fenced_code_keeps_its_language_class():
    assert '<code class="language-python">' in render_markdown("```python\nx = 1\n```")


def test_table_alignment_survives_sanitising():
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert '<th align="left">a</th>' in html
    assert '<td align="right">2</td>' in html
    assert "style" not in html


def test_table_rows_beyond_the_cell_budget_become_text(monkeypatch):
    monkeypatch.setattr(markup, "MAX_TABLE_CELLS", 30)
    html = render_markdown("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 50)
    assert html.count("<tr>") < 15


def test_post_whose_html_would_balloon_is_stored_as_typed():
    source = f"[a]: https://example.com/{'x' * 2000}\n\n" + "[a] " * 200
    html = render_markdown(source)
    assert html.startswith('<pre tabindex="0">[a]: https://example.com/xxx')
    assert "<a " not in html


def test_plain_text_drops_quoted_replies():
    source = "> **John K wrote:**\n>\n> Use the old form.\n\nThe new form works better."
    assert plain_text(source) == "The new form works better."


def test_plain_text_unescapes_entities_and_keeps_typed_html_as_text():
    source = "Fish &amp; chips <img src=x onerror=alert(1)>"
    assert plain_text(source) == "Fish & chips <img src=x onerror=alert(1)>"


def test_plain_text_keeps_code_and_separates_paragraphs():
    source = "Run `make   all`.\n\n```\nmake\n  install\n```\n\n**Done** [here](http://x.y)"
    assert plain_text(source) == "Run make all.\nmake install\nDone here"


def test_count_links_counts_bare_urls_autolinks_and_markdown_links():
    source = "https://a.example and <https://b.example> and [c](https://c.example) www.example.com"
    assert count_links(source) == 4


def test_count_links_ignores_mentions_and_code():
    assert count_links("@jane `https://a.example`") == 0


def test_quote_for_reply_renders_as_a_blockquote_naming_the_author():
    reply = quote_for_reply("John K", "First line\nsecond line\n\nNext paragraph") + "I agree."
    html = render_markdown(reply)
    assert html.startswith("<blockquote>\n<p><strong>John K wrote:</strong></p>")
    assert "<p>First line\nsecond line</p>\n<p>Next paragraph</p>\n</blockquote>" in html
    assert html.endswith("<p>I agree.</p>\n")


def test_quote_for_reply_escapes_markdown_in_the_name():
    html = render_markdown(quote_for_reply("*star* [x](http://e.x) <b>", "hi"))
    assert "<strong>*star* [x](http://e.x) &lt;b&gt; wrote:</strong>" in html


def test_attack_audit_flags_unsafe_html():
    html = '<a href="java\tscript:x" onclick="y">a</a><img src="http://x/y.png"><svg></svg>'
    assert len(audit(html)) == 4


def _corpus(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [text, *text.split("\n")]


@pytest.mark.parametrize(
    "path",
    [
        *sorted((ATTACK / "xss").glob("*.txt")),
        ATTACK / "blns" / "blns.txt",
        ATTACK / "ssti" / "ssti.fuzz",
    ],
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_attack_strings_render_to_nothing_executable(path):
    failures = []
    for number, payload in enumerate(_corpus(path)):
        if problems := audit(render_markdown(payload)):
            where = "whole file" if number == 0 else f"line {number}"
            failures.append(f"{where}: {payload[:200]!r} -> {problems}")
    assert not failures, "\n".join(failures[:20])


# ---- highlighted code ----------------------------------------------------------------------------

CSS_RULE = re.compile(r"^\.post-body pre code \.([\w-]+) \{ color: #([0-9A-Fa-f]{3,6})", re.M)


def relative_luminance(hex_colour: str) -> float:
    if len(hex_colour) == 3:
        hex_colour = "".join(2 * digit for digit in hex_colour)
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_code_in_a_known_language_is_highlighted_with_classes_and_stays_escaped():
    html = render_markdown('```python\ndef f():\n    return "<script>alert(1)</script>"\n```')
    assert html.startswith(
        '<pre tabindex="0"><code class="language-python"><span class="k">def</span>'
    )
    assert '<span class="nf">f</span>' in html
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "style=" not in html


def test_code_in_an_unknown_or_hostile_language_is_left_plain():
    assert render_markdown("```nosuchlang\n<i>x</i>\n```") == (
        '<pre tabindex="0"><code class="language-nosuchlang">&lt;i&gt;x&lt;/i&gt;\n</code></pre>\n'
    )
    hostile = render_markdown('```py"><script>\nx = 1\n```')
    assert "<span" not in hostile and "<script" not in hostile


def test_spans_a_member_cannot_write_themselves():
    # Markdown has no raw HTML here, so the only spans are the highlighter's.
    html = render_markdown('<span class="k">a</span> `<span class="k">`')
    assert '<span class="k">' not in html


def test_highlighting_stops_at_the_posts_budget():
    small = "```python\nx = 1\n```"
    big = "```python\n" + "y = 2\n" * (MAX_HIGHLIGHTED_CODE // 6 + 1) + "```"
    html = render_markdown(f"{small}\n\n{big}")
    first, second = html.split("</pre>", 1)
    assert '<span class="n">x</span>' in first
    assert '<span class="n">y</span>' not in second and "y = 2" in second


def test_the_stylesheet_colours_every_class_the_highlighter_writes_legibly():
    stylesheet = (STATIC / "highlight.css").read_text()
    colours = dict(CSS_RULE.findall(stylesheet))
    background = re.search(
        r"\.post-body pre \{ background: #(\w+)", (STATIC / "forum.css").read_text()
    )
    assert background, "forum.css sets no background for code blocks"
    too_faint = {cls: c for cls, c in colours.items() if contrast(c, background[1]) < 4.5}
    assert too_faint == {}, "below WCAG AA (4.5:1) on the code background"
    sample = render_markdown("```python\n@cache\ndef f(x=1, *a):  # note\n    return 'a' % x\n```")
    written = set(re.findall(r'<span class="([\w ]+)">', sample))
    assert {"k", "nf", "c1", "s1", "mi", "nd"} <= written
    assert written - {"w", "p"} <= set(colours), "classes with no colour"


def test_every_page_links_the_highlight_stylesheet(client):
    assert 'href="/static/highlight.css"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "source",
    [
        "```\ncode\n```",
        "    indented code",
        "```python\nx = 1\n```",
        f"[a]: https://example.com/{'x' * 2000}\n\n" + "[a] " * 200,  # stored as typed
    ],
)
def test_every_code_block_can_be_reached_by_keyboard_to_scroll_it(source):
    html = str(render_markdown(source))
    assert "<pre" in html
    assert html.count("<pre") == html.count('<pre tabindex="0">')
