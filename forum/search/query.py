"""The search box's syntax: words, "exact phrases", OR, -exclusions and the operators (author:,
board:, is:solved, after:, before:)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

MAX_WORDS = 32
MAX_QUERY_CHARS = 1000
TOKEN_RE = re.compile(
    r"(?P<paren>[()])"
    r"|(?P<minus>-)(?=[^\s)])"  # straight before a term or "(": "e-mail" and "- x" exclude nothing
    r'|"(?P<phrase>[^"]*)(?P<closed>"|$)'
    r'|(?P<op>[A-Za-z]+):(?P<arg>"[^"]*"|[^\s()]*)'
    r'|(?P<word>[^\s()"]+)'
)
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
OPERATORS = {"author", "board", "is", "after", "before"}
EITHER = "OR"  # upper case only: a typed "or" is an ordinary (stop) word


@dataclass(frozen=True)
class QueryTerm:
    """A word, or an exact phrase. A word token such as "wi-fi" is one word of several parts."""

    text: str  # lower-cased, its parts joined by single spaces
    phrase: bool = False

    def written(self) -> str:
        return f'"{self.text}"' if self.phrase else "-".join(self.text.split())


Clause = tuple[QueryTerm, ...]  # alternatives joined by OR; most clauses have just one


@dataclass(frozen=True)
class ParsedQuery:
    """A query taken apart: every clause must match (any one, in the any-word fallback), and no
    shown thread may contain an excluded term. Only the clauses' words are ever spell-corrected."""

    clauses: tuple[Clause, ...] = ()
    excluded: tuple[QueryTerm, ...] = ()
    author: str | None = None
    board: str | None = None
    solved: bool = False
    after: date | None = None
    before: date | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(term.text for clause in self.clauses for term in clause if not term.phrase)

    @property
    def is_empty(self) -> bool:
        """Nothing to find: excluded terms alone only leave threads out."""
        return not (self.clauses or self.has_filters)

    @property
    def has_filters(self) -> bool:
        return bool(self.author or self.board or self.solved or self.after or self.before)

    @property
    def widens_with_any_word(self) -> bool:
        """Whether matching any clause with a word finds more than matching all of them."""
        return sum(any(not term.phrase for term in clause) for clause in self.clauses) > 1

    def with_words(self, words: tuple[str, ...]) -> ParsedQuery:
        """The query with its clauses' words replaced in order (by their corrections)."""
        replacements = iter(words)
        clauses = tuple(
            tuple(term if term.phrase else QueryTerm(next(replacements)) for term in clause)
            for clause in self.clauses
        )
        return replace(self, clauses=clauses)

    def text(self) -> str:
        """The query written back as a member would type it."""
        parts = []
        for clause in self.clauses:
            either = f" {EITHER} ".join(term.written() for term in clause)
            parts.append(f"({either})" if len(clause) > 1 and len(self.clauses) > 1 else either)
        parts += [f"-{term.written()}" for term in self.excluded]
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


@dataclass(frozen=True)
class _Group:
    """An open bracket: what there was before it, and whether an OR or a '-' led to it."""

    clauses: int
    added: int
    joining: bool
    excluding: bool


class _Clauses:
    """Sorts terms into clauses as the tokens come: OR joins, '-' excludes, brackets group."""

    def __init__(self) -> None:
        self.clauses: list[list[QueryTerm]] = []
        self.excluded: list[QueryTerm] = []
        self.excluding = False  # a '-' came straight before the next term or bracket
        self.joining = False  # an OR came before the next term: it joins the last clause
        self.groups: list[_Group] = []
        # The clauses the last token added to: 1 for a word or phrase, a group's for ')', else 0.
        self.last = 0
        self.added = 0  # terms added to clauses so far
        self.split_group = False  # an OR met a group of several clauses: it joins only one

    def add(self, term: QueryTerm) -> None:
        if self.excluding or any(group.excluding for group in self.groups):
            self.excluded.append(term)
            self.last = 0
        else:
            if self.joining:
                self.clauses[-1].append(term)
            else:
                self.clauses.append([term])
            self.added += 1
            self.last = 1
        self.excluding = self.joining = False

    def either(self) -> None:
        self.split_group |= self.last > 1
        self.joining, self.excluding, self.last = self.last > 0, False, 0

    def open(self) -> None:
        self.groups.append(_Group(len(self.clauses), self.added, self.joining, self.excluding))
        self.excluding, self.last = False, 0

    def close(self) -> None:
        self.excluding = self.joining = False
        if not self.groups:
            self.last = 0
            return
        group = self.groups.pop()
        begun = len(self.clauses) - group.clauses
        joined = group.joining and self.added > group.added  # its first term joined a clause
        self.split_group |= joined and begun > 0
        self.last = begun + joined

    def other(self) -> None:
        """An operator came: OR and '-' apply to words and phrases only."""
        self.excluding = self.joining = False
        self.last = 0


def parse_query(text: str) -> ParsedQuery:
    """Parse what was typed; anything malformed becomes a note for the member, never an error."""
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"Only the first {MAX_QUERY_CHARS:,} characters of your search were used.")
    found = _Clauses()
    filters: dict = {}
    terms = dropped = 0
    for match in TOKEN_RE.finditer(text):
        term = None
        if match["paren"] == "(":
            found.open()
        elif match["paren"]:
            found.close()
        elif match["minus"]:
            found.excluding = True
        elif match["phrase"] is not None:
            if not match["closed"]:
                notes.append("A quotation mark was not closed; the rest was searched as a phrase.")
            phrase = " ".join(WORD_RE.findall(match["phrase"].lower()))
            term = QueryTerm(phrase, phrase=True) if phrase else None
        elif match["op"] and match["op"].lower() in OPERATORS:
            if found.excluding:
                notes.append(f"Only words and phrases can be left out; “-{match[0]}” was ignored.")
            else:
                _operator(match["op"].lower(), match["arg"].strip('"'), filters, notes)
            found.other()
        elif match[0] == EITHER:
            found.either()
        else:
            parts = WORD_RE.findall(match[0].lower())
            term = QueryTerm(" ".join(parts)) if parts else None
        if term is not None:
            if terms < MAX_WORDS:
                found.add(term)
                terms += 1
            else:
                dropped += 1
    if dropped:
        notes.append(f"Searches use at most {MAX_WORDS} words; the last {dropped} were ignored.")
    parsed = ParsedQuery(
        clauses=tuple(map(tuple, found.clauses)),
        excluded=tuple(found.excluded),
        notes=tuple(notes),
        **filters,
    )
    if found.split_group:
        note = f"OR joins single words or phrases, so this was searched as: {parsed.text()}"
        parsed = replace(parsed, notes=(*parsed.notes, note))
    return parsed


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
