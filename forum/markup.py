"""Markdown source -> sanitised HTML (Markup), plus plain text for the search index."""

import re
from collections.abc import Callable, Iterator

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock, table
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# code -> (file stem under static/emoticons/, alt text); the alt text is what screen readers say.
EMOTICONS: dict[str, tuple[str, str]] = {
    ":)": ("smiley-happy", "Smiley Happy"),
    ":-)": ("smiley-happy", "Smiley Happy"),
    ":(": ("smiley-sad", "Smiley Sad"),
    ":-(": ("smiley-sad", "Smiley Sad"),
    ";)": ("smiley-wink", "Smiley Wink"),
    ";-)": ("smiley-wink", "Smiley Wink"),
    ":D": ("smiley-very-happy", "Smiley Very Happy"),
    ":-D": ("smiley-very-happy", "Smiley Very Happy"),
    ":P": ("smiley-tongue", "Smiley Tongue"),
    ":-P": ("smiley-tongue", "Smiley Tongue"),
    ":p": ("smiley-tongue", "Smiley Tongue"),
    ":'(": ("smiley-crying", "Smiley Crying"),
    ":O": ("smiley-surprised", "Smiley Surprised"),
    ":-O": ("smiley-surprised", "Smiley Surprised"),
}
EMOTICON_PATH = "/static/emoticons/"
# Per post, beyond these the rest stay text: each emoticon stores ~200 bytes of HTML, each mention
# ~70, and each handle looked up may cost member_exists a database query.
MAX_EMOTICONS = 100
MAX_MENTIONS = 50
# Short table rows are padded to the header's width, so without a budget a 32,000-character post
# of narrow tables under wide headers made 1.5 million cells (15 s, 12 MB of HTML).
MAX_TABLE_CELLS = 20_000
# A reference repeats its URL at every use (a 16,000-character URL used 5,000 times made 40 MB): a
# post whose HTML outgrows this is stored as typed. Real posts stay far below (20news: at most 4x).
MAX_HTML_GROWTH = 16
MIN_HTML_LIMIT = 64 * 1024
# Characters of fenced code highlighted per post (about 125 lines); the rest stays plain.
MAX_HIGHLIGHTED_CODE = 5_000

IMAGE_ATTRIBUTES = {"loading": "lazy", "referrerpolicy": "no-referrer"}
_EMOTICON_HTML = {
    code: f'<img class="emoticon" src="{EMOTICON_PATH}{stem}.svg" alt="{alt}" title="{alt}"'
    ' width="16" height="16" loading="lazy" referrerpolicy="no-referrer">'
    for code, (stem, alt) in EMOTICONS.items()
}
_CODES = "|".join(re.escape(code) for code in sorted(EMOTICONS, key=len, reverse=True))
# An emoticon stands apart from words (so `std::Pair` and `foo:Duck` stay text); a mention
# must not follow a word or a dot (so `a@b.com` is no mention).
_DECORATION = re.compile(
    rf"(?P<emoticon>(?<![\w:;])(?:{_CODES})(?!\w))"
    r"|(?<![\w@.+-])@(?P<handle>[A-Za-z0-9_-]{3,30})(?![\w-])"
)
_ALIGN = re.compile(r"text-align:(left|right|center)")
_LANGUAGE = re.compile(r"language-[\w+#.-]{1,40}")
_ALIGNMENTS = {"left", "right", "center"}
# Highlighted code carries Pygments' short token classes only; the colours live in
# static/highlight.css (the CSP allows no inline style), made by highlight_stylesheet().
HIGHLIGHT_STYLE = "xcode"  # the light Pygments style whose every colour passes WCAG AA on our code
_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
_TOKEN_SPANS = HtmlFormatter(nowrap=True)


def _highlight_fences(tokens: list[Token]) -> None:
    """Fenced code in a language Pygments knows becomes token spans, while the post's budget lasts
    (past it, code stays plain: Pygments costs up to 30 µs a character on hostile input)."""
    budget = MAX_HIGHLIGHTED_CODE
    for index, token in enumerate(tokens):
        language = token.info.split(maxsplit=1)[0] if token.type == "fence" and token.info else ""
        if not language or len(token.content) > budget:
            continue
        try:
            lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
        except ClassNotFound:
            continue
        budget -= len(token.content)
        spans = highlight(token.content, lexer, _TOKEN_SPANS)
        html = Markup('<pre><code class="language-{}">{}</code></pre>\n').format(
            language, Markup(spans)
        )
        tokens[index] = Token("html_block", "", 0, content=str(html), map=token.map)


def highlight_stylesheet() -> str:
    """The CSS for highlighted code (static/highlight.css holds its output)."""
    rules = HtmlFormatter(style=HIGHLIGHT_STYLE).get_token_style_defs(".post-body pre code")
    return "\n".join(rules) + "\n"


def _bounded_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Parse a table while the post's cell budget lasts; rows beyond it become paragraphs."""
    if start + 2 > end:
        return False
    delimiter = state.src[
        state.bMarks[start + 1] + state.tShift[start + 1] : state.eMarks[start + 1]
    ]
    columns = delimiter.count("|") + 1
    rows = (MAX_TABLE_CELLS - state.env.get("table_cells", 0)) // columns
    if rows < 2 or not table(state, start, min(end, start + rows), silent):
        return False
    if not silent:
        state.env["table_cells"] = state.env.get("table_cells", 0) + (state.line - start) * columns
    return True


_MD = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable(
    ["linkify", "table", "strikethrough"]
)
_MD.block.ruler.at("table", _bounded_table, {"alt": ["paragraph", "reference"]})


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Allow our own classes only, and images only over https or from our emoticons."""
    if attribute == "class":
        if tag == "code":
            return value if _LANGUAGE.fullmatch(value) else None
        if tag == "span":
            return value if set(value.split()) <= _TOKEN_CLASSES else None
        return value if value == {"img": "emoticon", "a": "mention"}.get(tag) else None
    if tag == "img" and attribute == "src":
        return value if value.startswith(("https://", EMOTICON_PATH)) else None
    return value


_CLEANER = nh3.Cleaner(
    tags={
        *("p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote"),
        *("ul", "ol", "li", "a", "img", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("table", "thead", "tbody", "tr", "th", "td", "span"),
    },
    attributes={
        "a": {"href", "title", "class"},
        "img": {"src", "alt", "title", "width", "height", "class"},
        "code": {"class"},
        "span": {"class"},
        "ol": {"start"},
    },
    # Images get loading=lazy and no referrer from the renderer (IMAGE_ATTRIBUTES), in a fixed
    # order: nh3's set_tag_attribute_values adds them in a different order in every process.
    tag_attribute_values={
        "th": {"align": _ALIGNMENTS},
        "td": {"align": _ALIGNMENTS},
        "img": {name: {value} for name, value in IMAGE_ATTRIBUTES.items()},
    },
    # A code block wider than the post scrolls sideways, and a scrolling box must be reachable by
    # keyboard (axe: scrollable-region-focusable): every <pre> is a tab stop, its one attribute.
    set_tag_attribute_values={"pre": {"tabindex": "0"}},
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow ugc noopener",
)


class _Decorator:
    """Turns emoticons and mentions in one post's text into images and links."""

    def __init__(self, member_exists: Callable[[str], bool] | None) -> None:
        self.member_exists = member_exists
        self.members: dict[str, bool] = {}  # one lookup per handle, however often it is named
        self.emoticons = self.mentions = 0

    def _wanted(self, match: re.Match[str]) -> bool:
        if not match["handle"]:
            self.emoticons += 1
            return self.emoticons <= MAX_EMOTICONS
        handle = match["handle"].lower()
        if handle not in self.members and len(self.members) < MAX_MENTIONS:
            self.members[handle] = self.member_exists is None or self.member_exists(handle)
        if not self.members.get(handle):
            return False
        self.mentions += 1
        return self.mentions <= MAX_MENTIONS

    def split(self, text: str) -> Iterator[Token]:
        start = 0
        for match in _DECORATION.finditer(text):
            if not self._wanted(match):
                continue
            if match.start() > start:
                yield Token("text", "", 0, content=text[start : match.start()])
            if match["handle"]:
                href = f"/members/{match['handle'].lower()}"
                yield Token("link_open", "a", 1, attrs={"href": href, "class": "mention"})
                yield Token("text", "", 0, content=match[0])
                yield Token("link_close", "a", -1)
            else:
                yield Token("html_inline", "", 0, content=_EMOTICON_HTML[match[0]])
            start = match.end()
        if start < len(text):
            yield Token("text", "", 0, content=text[start:])

    def decorate(self, tokens: list[Token]) -> None:
        """Decorate text outside code and links; drop images not served over https."""
        for token in tokens:
            style = token.attrs.pop("style", "") if token.type in ("th_open", "td_open") else ""
            if align := _ALIGN.search(str(style)):
                token.attrs["align"] = align[1]  # nh3 drops every style; align survives
            if token.type != "inline" or not token.children:
                continue
            children: list[Token] = []
            in_link = 0
            for child in token.children:
                in_link += child.nesting if child.type in ("link_open", "link_close") else 0
                if child.type == "image":
                    if not str(child.attrs["src"]).startswith("https://"):
                        continue
                    child.attrs.update(IMAGE_ATTRIBUTES)
                if child.type == "text" and not in_link:
                    children.extend(self.split(child.content))
                else:
                    children.append(child)
            token.children = children


def render_markdown(source: str, *, member_exists: Callable[[str], bool] | None = None) -> Markup:
    """Render a post once, at save time; the result is safe to put in any template as is."""
    tokens = _MD.parse(source)
    _Decorator(member_exists).decorate(tokens)
    _highlight_fences(tokens)
    html = _CLEANER.clean(_MD.renderer.render(tokens, _MD.options, {}))
    if len(html) > max(MIN_HTML_LIMIT, MAX_HTML_GROWTH * len(source)):
        return Markup('<pre tabindex="0">{}</pre>').format(source)
    return Markup(html)


def _inline_text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image" and child.children:
            parts.append(_inline_text(child.children))
    return "".join(parts)


def plain_text(source: str) -> str:
    """The words a post adds to the search index: no markup, and no text quoted from other posts."""
    blocks, quoted = [], 0
    for token in _MD.parse(source):
        if token.type in ("blockquote_open", "blockquote_close"):
            quoted += token.nesting
        elif quoted:
            continue
        elif token.type == "inline" and token.children:
            blocks.append(_inline_text(token.children))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content)
    return "\n".join(text for block in blocks if (text := " ".join(block.split())))


def count_links(source: str) -> int:
    """How many links the rendered source holds, mentions aside: signatures may carry only two."""
    return sum(
        child.type == "link_open"
        for token in _MD.parse(source)
        if token.type == "inline" and token.children
        for child in token.children
    )


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_NEWLINE = re.compile(r"\r\n?|\n")


def quote_for_reply(author_display_name: str, source: str, post_id: int | None = None) -> str:
    """The Markdown a "Quote" button puts in the reply box: the post as a blockquote, attributed.

    With the post's id, "wrote" links to it: that link is how the quoted author is notified.
    """
    name = _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(author_display_name.split()))
    wrote = f"[wrote](/p/{post_id})" if post_id is not None else "wrote"
    lines = [f"**{name} {wrote}:**", "", *_NEWLINE.split(source.strip("\r\n"))]
    return "".join(f"> {line}\n" if line else ">\n" for line in lines) + "\n"


def stored_html(html: str) -> Markup:
    """HTML this module produced (sanitised) when a post or signature was saved, as Markup:
    the one place stored HTML is trusted (templates use it as the stored_html filter)."""
    return Markup(html)
