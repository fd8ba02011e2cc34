"""Local spam scoring: a naive Bayes classifier over a post's words and link domains, trained only
by moderators' decisions, whose verdict can hold a post for review and never removes one.

The combination is Gary Robinson's, as SpamBayes and Bogofilter use it: each token's spam
probability from the counts of decided messages that held it, shrunk towards 0.5 while evidence
is thin, and the most telling tokens combined by Fisher's chi-square method. Unlike a
multinomial naive Bayes product (which says 0.000 or 1.000 for almost every post), it keeps an
honest middle for posts it cannot tell, and the tokens it used are the explanation shown to
moderators. The counts live in `spam_tokens`, so every worker scores alike, a decision is learnt
in the moderator's own transaction, and a score reads only its tokens' rows (one SELECT).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forum.models.spam import SpamToken

# The row counting decided messages; "#" starts no token the tokeniser makes.
TOTALS = "#messages"
# Robinson's constants, SpamBayes' defaults: how strongly an unseen token leans to 0.5, the
# tokens too close to 0.5 to count, and how many of the most telling tokens are combined.
STRENGTH = 0.45
UNKNOWN = 0.5
MIN_STRENGTH = 0.1
MAX_DISCRIMINATORS = 150
REASONS_SHOWN = 8
# Distinct tokens scored per post: bounds the SELECT's IN list (links and domains come first).
MAX_TOKENS = 2000
MIN_WORD, MAX_WORD = 3, 20

# [^<>]: a match never runs past the next "<", so text of 10,000 "<a " costs one pass, not
# one pass per "<" (20 s for a 32,000-character post with [^>]).
_HREF = re.compile(r"""<a\b[^<>]*?\bhref\s*=\s*["']([^"'<>]*)["']""", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_URL = re.compile(r"""\b(?:https?|ftp)://[^\s<>"']+""", re.IGNORECASE)
_HOST = re.compile(r"^(?:https?|ftp)://(?:[^@/?#]*@)?([^:/?#]+)", re.IGNORECASE)
_HOSTNAME = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
_WORD = re.compile(r"\$?[^\W_][\w'-]*")


@dataclass(frozen=True)
class SpamVerdict:
    """A post's spam probability (None: not enough training yet) and the tokens behind it.

    `reasons` are the tokens that pushed towards spam, most telling first, each with its own spam
    probability. A verdict can only hold a post for review (`holds`); nothing here removes one.
    """

    probability: float | None
    threshold: float
    reasons: list[tuple[str, float]] = field(default_factory=list)
    spam_decisions: int = 0
    ham_decisions: int = 0
    decisions_needed: int = 0

    @property
    def trained(self) -> bool:
        return self.probability is not None

    @property
    def holds(self) -> bool:
        """Whether the post waits for a moderator: only when trained and over the threshold (a
        post of words never decided scores exactly 0.5, the default, and is not held)."""
        return self.probability is not None and self.probability > self.threshold


def tokens(text: str) -> list[str]:
    """The distinct tokens of a post's rendered HTML or plain text: `links:N` (a bucket), a
    `domain:` token per linked host (and its parent domain), then lower-cased words."""
    plain = html.unescape(_TAG.sub(" ", text))
    # Web links only: the renderer also links e-mail addresses (mailto:), which most signatures hold.
    urls = {url for url in map(html.unescape, _HREF.findall(text)) if _HOST.match(url.strip())}
    urls.update(_URL.findall(plain))
    found = [f"links:{_bucket(len(urls))}"]
    found += sorted({token for url in urls for token in _domain_tokens(url)})
    for word in _WORD.findall(_URL.sub(" ", plain).lower()):
        word = word.rstrip("'-")
        if MIN_WORD <= len(word) <= MAX_WORD:
            found.append(word)
    return list(dict.fromkeys(found))[:MAX_TOKENS]


def _bucket(links: int) -> str:
    return str(links) if links < 2 else "2-3" if links < 4 else "4+"


def _domain_tokens(url: str) -> list[str]:
    match = _HOST.match(url.strip())
    host = match.group(1).lower().rstrip(".").removeprefix("www.") if match else ""
    if not _HOSTNAME.match(host) or len(host) > 90:
        return []
    parent = ".".join(host.split(".")[-2:])
    return [f"domain:{host}"] + ([f"domain:{parent}"] if parent != host else [])


def text_of(subject: str, html: str) -> str:
    """The one text form scored and decided: a subject (a new thread's; "" for a reply, so a
    reply never teaches its thread's subject) and the stored HTML. Holding and training both
    use it, so a decision teaches exactly the tokens the score read."""
    return f"{subject}\n{html}"


def learn(session: Session, text: str, is_spam: bool) -> None:
    """Count a decided post (its rendered HTML or text), inside the caller's transaction."""
    learn_tokens(session, tokens(text), is_spam)


def unlearn(session: Session, text: str, is_spam: bool) -> None:
    """Take back an earlier `learn` of the same text and decision, exactly."""
    unlearn_tokens(session, tokens(text), is_spam)


def record_decision(
    session: Session, text: str, is_spam: bool, previous: bool | None = None
) -> None:
    """Train on a moderator's decision ("reject as spam": True, "not spam": False); `previous` is
    the decision this one replaces for the same text, if the moderator changed their mind."""
    if previous == is_spam:
        return
    if previous is not None:
        unlearn(session, text, previous)
    learn(session, text, is_spam)


def learn_tokens(session: Session, post_tokens: Iterable[str], is_spam: bool) -> None:
    """Add one message to the counts of each token and of the totals: one upsert statement,
    rows in token order so concurrent learners on PostgreSQL lock them alike (no deadlock)."""
    spam, ham = (1, 0) if is_spam else (0, 1)
    rows = [
        {"token": token, "spam_count": spam, "ham_count": ham}
        for token in sorted({TOTALS, *post_tokens})
    ]
    insert = (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(SpamToken)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[SpamToken.token],
            set_={
                "spam_count": SpamToken.spam_count + insert.excluded.spam_count,
                "ham_count": SpamToken.ham_count + insert.excluded.ham_count,
            },
        ),
        rows,
    )


def unlearn_tokens(session: Session, post_tokens: Iterable[str], is_spam: bool) -> None:
    """Subtract one message from the tokens' counts; rows left at zero go, as if never learnt."""
    keys = sorted({TOTALS, *post_tokens})
    column = SpamToken.spam_count if is_spam else SpamToken.ham_count
    session.execute(
        update(SpamToken)
        .where(SpamToken.token.in_(keys), column > 0)
        .values({column: column - 1})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(SpamToken)
        .where(SpamToken.token.in_(keys), SpamToken.spam_count == 0, SpamToken.ham_count == 0)
        .execution_options(synchronize_session=False)
    )


def score(session: Session, text: str) -> SpamVerdict:
    """The verdict on a post's rendered HTML or text, from one SELECT of its tokens' rows."""
    return score_tokens(session, tokens(text))


def score_tokens(session: Session, post_tokens: list[str]) -> SpamVerdict:
    """The verdict on a post's tokens against what moderators have taught so far."""
    config = current_app.config
    threshold = float(config["SPAM_HOLD_THRESHOLD"])
    needed = max(1, int(config["SPAM_MIN_DECISIONS"]))
    counts = {
        row.token: (row.spam_count, row.ham_count)
        for row in session.execute(
            select(SpamToken.token, SpamToken.spam_count, SpamToken.ham_count).where(
                SpamToken.token.in_([TOTALS, *post_tokens])
            )
        )
    }
    spam_total, ham_total = counts.pop(TOTALS, (0, 0))
    untrained = SpamVerdict(None, threshold, [], spam_total, ham_total, needed)
    if spam_total < needed or ham_total < needed:
        return untrained
    leaning = [
        (token, _token_probability(spam, ham, spam_total, ham_total))
        for token, (spam, ham) in counts.items()
    ]
    telling = sorted(
        (item for item in leaning if abs(item[1] - UNKNOWN) >= MIN_STRENGTH),
        key=lambda item: abs(item[1] - UNKNOWN),
        reverse=True,
    )[:MAX_DISCRIMINATORS]
    reasons = [(token, p) for token, p in telling if p > UNKNOWN][:REASONS_SHOWN]
    return SpamVerdict(
        _combine([p for _, p in telling]), threshold, reasons, spam_total, ham_total, needed
    )


def _token_probability(spam: int, ham: int, spam_total: int, ham_total: int) -> float:
    """Robinson's f(w): the share of spam among messages with the token, each class weighed by
    its own size, shrunk towards UNKNOWN by STRENGTH while the token has been seen few times."""
    spam_ratio, ham_ratio = spam / spam_total, ham / ham_total
    p = spam_ratio / (spam_ratio + ham_ratio)
    seen = spam + ham
    return (STRENGTH * UNKNOWN + seen * p) / (STRENGTH + seen)


def _combine(probabilities: list[float]) -> float:
    """Fisher's chi-square combination: (1 + S - H) / 2, where S and H say how unlikely the
    tokens are as chance, read as spam and as not spam. No telling tokens: 0.5."""
    if not probabilities:
        return UNKNOWN
    freedom = 2 * len(probabilities)
    # Many tokens far from not-spam (small 1 - p) make the product of (1 - p) improbably small
    # for chance: evidence for spam; and the other way round.
    spam = 1.0 - _chi2_survival(-2.0 * sum(math.log(1.0 - p) for p in probabilities), freedom)
    ham = 1.0 - _chi2_survival(-2.0 * sum(math.log(p) for p in probabilities), freedom)
    return (spam - ham + 1.0) / 2.0


def _chi2_survival(chi2: float, freedom: int) -> float:
    """P(X >= chi2) for a chi-square variable with an even number of degrees of freedom."""
    half = chi2 / 2.0
    term = total = math.exp(-half)
    for i in range(1, freedom // 2):
        term *= half / i
        total += term
    return min(total, 1.0)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
