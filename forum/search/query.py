"""The search box's syntax: words, "exact phrases" and operators (author:, board:, is:solved, after:, before:)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

MAX_WORDS = 32
MAX_QUERY_CHARS = 1000
TOKEN_RE = re.compile(
    r'"(?P<phrase>[^"]*)("|$)|(?P<op>[A-Za-z]+):(?P<arg>"[^"]*"|\S*)|(?P<word>\S+)'
)
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
OPERATORS = {"author", "board", "is", "after", "before"}


@dataclass(frozen=True)
class ParsedQuery:
    """A query taken apart. `words` are free words (lower-cased); only they are ever spell-corrected."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    author: str | None = None
    board: str | None = None
    solved: bool = False
    after: date | None = None
    before: date | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        return not (
            self.words
            or self.phrases
            or self.author
            or self.board
            or self.solved
            or self.after
            or self.before
        )

    @property
    def has_filters(self) -> bool:
        return bool(self.author or self.board or self.solved or self.after or self.before)

    def with_words(self, words: tuple[str, ...]) -> ParsedQuery:
        return replace(self, words=words)

    def text(self) -> str:
        """The query written back as a member would type it."""
        parts = list(self.words) + [f'"{p}"' for p in self.phrases]
        if self.author:
            parts.append(f"author:{self.author}")
        if self.board:
            parts.append(f"board:{self.board}")
        if self.solved:
            parts.append("is:solved")
        if self.after:
            parts.append(f"after:{self.after.isoformat()}")
        if self.before:
            parts.append(f"before:{self.before.isoformat()}")
        return " ".join(parts)


def parse_query(text: str) -> ParsedQuery:
    """Parse what was typed; anything malformed becomes a note for the member, never an error."""
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"Only the first {MAX_QUERY_CHARS:,} characters of your search were used.")
    words: list[str] = []
    phrases: list[str] = []
    filters: dict = {}
    dropped = 0
    for match in TOKEN_RE.finditer(text):
        if match["phrase"] is not None:
            if not match.group(2):
                notes.append("A quotation mark was not closed; the rest was searched as a phrase.")
            phrase = " ".join(WORD_RE.findall(match["phrase"].lower()))
            if phrase:
                phrases.append(phrase)
        elif match["op"] and match["op"].lower() in OPERATORS:
            _operator(match["op"].lower(), match["arg"].strip('"'), filters, notes)
        else:
            for word in WORD_RE.findall((match["word"] or match.group(0)).lower()):
                if len(words) + len(phrases) < MAX_WORDS:
                    words.append(word)
                else:
                    dropped += 1
    if dropped:
        notes.append(f"Searches use at most {MAX_WORDS} words; the last {dropped} were ignored.")
    return ParsedQuery(words=tuple(words), phrases=tuple(phrases), notes=tuple(notes), **filters)


def _operator(name: str, arg: str, filters: dict, notes: list[str]) -> None:
    if not arg:
        notes.append(f"“{name}:” needs something after it, e.g. {_EXAMPLES[name]}.")
        return
    if name in ("author", "board"):
        filters[name] = arg.lower()[:80]
    elif name == "is":
        if arg.lower() == "solved":
            filters["solved"] = True
        else:
            notes.append("Only “is:solved” is understood.")
    else:
        try:
            filters[name] = date.fromisoformat(arg)
        except ValueError:
            notes.append(f"“{name}:{arg}” is not a date like {_EXAMPLES[name]}.")


_EXAMPLES = {
    "author": "author:john-k",
    "board": "board:freelancers",
    "is": "is:solved",
    "after": "after:2017-01-01",
    "before": "before:2017-12-31",
}
