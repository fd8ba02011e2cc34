"""Spam scoring benchmark: precision and recall of forum/spam.py on a labelled set built from the
20news corpus, at the hold threshold and around it, by number of moderator decisions, with
variants of the tokens (stemmed words; no link tokens), and against a plain naive Bayes product
of the same token probabilities (how often each says "certain", and how often wrongly).

    .venv/bin/python bench/spam.py [--data ../shared/data/] [--seed 1]

How the labelled set is built (the shared data holds no forum spam, so the spam is constructed,
and the figures say how well the classifier separates *this* spam from *this* ham):
- spam: the 508 opening posts of misc.forsale (subject and body): real people's unsolicited
  commercial offers (prices, "best offer", "call me"), which on a forum that is not a
  marketplace is what spam is. Two in three get 1 to 4 links to shop-like domains (as link
  spam does), one in three stays text only. Training spam links to 40 "campaign" domains; of
  the test spam, half links to those same domains (a campaign that goes on) and half to 40
  domains never seen in training (a campaign that rotates its domains).
- ham: three times as many posts (opening posts and replies) drawn from the other 19 boards;
  15% get a link to a domain ordinary posts link to (Wikipedia, GitHub, docs...), so "has a
  link" alone does not mean spam.
- Usenet header lines at the top of a body (Organization:, Distribution: ...) are dropped; every
  post is rendered by the forum's own Markdown renderer and scored as the stored HTML, as the
  queue would score it.
- Split by thread (a thread's posts fall on one side), 70% to train on (the moderators'
  decisions, in a shuffled order), 30% held out to measure.
Limits: forsale posts are honest sellers writing in 1993, not spammers writing today (no
obfuscated words, no link shorteners, no copy-paste campaigns of near-identical posts), and the
links are the benchmark's, added by rule; misc.forsale replies and sales talk inside the other
boards (comp.* posts with prices) stay ham. The split is by thread, not author: a seller's
signature words learnt from one post help with their next. The set measures the machinery (tokens, counts, the
combination, the threshold) on a plausible task; a real forum's spam will differ.

Everything runs through forum.spam on a migrated SQLite database (learn in write transactions,
score by its one SELECT), and tokenising hostile text (unclosed tags and links, 32,000
characters) is timed against an ordinary post of the same length. Exit status 1 when a bar fails.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from _common import PROJECT_ROOT, Bars, QueryCounter, heading, make_forum

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
SPAM_BOARD = "misc.forsale"
HAM_PER_SPAM = 3
HAM_LINK_SHARE = 0.15
SPAM_LINK_SHARE = 2 / 3
TRAIN_SHARE = 0.7
THRESHOLDS = [0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
DECISIONS = [10, 20, 50, 100, 200, 500, 1000]
SEEDS_PER_POINT = 3
# Bars at the default threshold with every training decision (the figures in the README).
PRECISION_BAR = 0.95
HAM_HELD_BAR = 0.02
HOSTILE_LENGTH = 32_000  # FORUM_MAX_POST_LENGTH
HOSTILE_BAR = 50  # times an ordinary post of the same length: linear work stays under 10x, a
# pattern that rescans per "<" was 1,000x and more

_HEADER = re.compile(r"^[A-Za-z][\w-]*:.*$")
_CAMPAIGN_WORDS = (
    ["cheap", "best", "top", "mega", "super", "discount", "deal", "bargain", "prime", "easy"],
    ["deals", "shop", "store", "market", "offers", "sales", "mart", "buys", "goods", "outlet"],
    [".com", ".biz", ".net", ".shop", ".online", ".store"],
)
_HAM_DOMAINS = [
    "en.wikipedia.org/wiki/",
    "github.com/",
    "docs.python.org/3/",
    "stackoverflow.com/questions/",
    "www.nasa.gov/",
    "arxiv.org/abs/",
    "archive.org/details/",
    "www.bbc.co.uk/news/",
    "www.youtube.com/watch?v=",
    "www.gnu.org/software/",
]
_SPAM_LINK_LINES = ["More at {url}", "Details and photos: {url}", "{url}", "Order here: {url}"]


@dataclass(frozen=True)
class Example:
    html: str
    is_spam: bool
    domains: str  # "campaign", "fresh" or "" (no links added)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sampling and the links")
    args = parser.parse_args()

    train, test = labelled_set(args.data / "20news" / "train.jsonl.gz", args.seed)
    heading("Labelled set")
    for name, part in (("train", train), ("test", test)):
        spam = sum(e.is_spam for e in part)
        print(
            f"  {name}: {len(part)} posts, {spam} spam ({spam / len(part):.0%}), {len(part) - spam} ham"
        )
    bars = Bars()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_forum(Path(tmp))
        from forum import spam

        threshold = app.config["SPAM_HOLD_THRESHOLD"]
        app.config["SPAM_MIN_DECISIONS"] = 1  # the curves below show what the setting should be
        plain = [(e, spam.tokens(e.html)) for e in train], [(e, spam.tokens(e.html)) for e in test]

        heading(f"All {len(train)} decisions learnt: by threshold (hold over the threshold)")
        scores = run(app, *plain)
        print_header()
        for t in THRESHOLDS:
            print_row(f"{t:.2f}{' (default)' if t == threshold else ''}", measure(scores, t))
        at_default = measure(scores, threshold)
        unsure = sum(0.1 < p < threshold for p, _ in scores) / len(scores)
        print(f"  posts scored between 0.10 and {threshold:.2f} (shown, not held): {unsure:.1%}")
        naive = naive_product_scores(app, plain[1])
        print_row("naive product, at default", measure(naive, threshold))
        for name, figures in (("Fisher (shipped)", scores), ("naive product", naive)):
            extreme = sum(p < 0.01 or p > 0.99 for p, _ in figures) / len(figures)
            wrong = sum((p > 0.99 and not s) or (p < 0.01 and s) for p, s in figures)
            print(
                f"  {name}: {extreme:.1%} of posts scored under 0.01 or over 0.99, {wrong} of them wrongly"
            )

        heading(f"Recall at {threshold:.2f} by kind of test spam")
        for kind, label in (
            ("campaign", "links to domains seen in training"),
            ("fresh", "links to domains never seen"),
            ("", "text only, no links"),
        ):
            kind_scores = [
                (p, True)
                for (p, _), e in zip(scores, test, strict=True)
                if e.is_spam and e.domains == kind
            ]
            held = sum(p > threshold for p, _ in kind_scores)
            print(f"  {label:<36} {held}/{len(kind_scores)} = {held / len(kind_scores):.1%}")

        heading(
            f"Learning curve at {threshold:.2f}: decisions learnt (mean of {SEEDS_PER_POINT} orders)"
        )
        print_header("decisions")
        for n in [*DECISIONS, len(train)]:
            runs = [
                measure(
                    run(app, random.Random(seed).sample(plain[0], min(n, len(train))), plain[1]),
                    threshold,
                )
                for seed in range(SEEDS_PER_POINT)
            ]
            print_row(str(n), [sum(r[i] for r in runs) / len(runs) for i in range(4)])

        heading(f"Token variants, all decisions, at {threshold:.2f}")
        print_header("tokens")
        print_row("words + links (shipped)", at_default)
        from whoosh.lang.porter2 import stem  # the search index's stemmer, here only to compare

        def stemmed(found: list[str]) -> list[str]:
            return list(dict.fromkeys(t if ":" in t else stem(t) for t in found))

        variant = [[(e, stemmed(found)) for e, found in part] for part in plain]
        print_row("stemmed words + links", measure(run(app, *variant), threshold))
        variant = [[(e, [t for t in found if ":" not in t]) for e, found in part] for part in plain]
        print_row("words only (no link tokens)", measure(run(app, *variant), threshold))

        heading("Cost of a score")
        run(app, *plain)
        counter = QueryCounter(app)
        with app.app_context(), counter.counting():
            from forum.extensions import db

            spam.score(db.session, test[0].html)
        statements = [s for s in counter.statements if not s.startswith(("BEGIN", "PRAGMA"))]
        print(
            f"  statements per score: {len(statements)}: {' '.join(statements[0].split())[:100]}..."
        )
        ordinary = "".join(e.html for e in test)[:HOSTILE_LENGTH]
        baseline = tokenising_time(ordinary)
        slowest = max(tokenising_time(text) / baseline for text in hostile_texts())
        print(
            f"  tokenising hostile text of {HOSTILE_LENGTH:,} characters: at most {slowest:.1f}x an ordinary post's"
        )

    precision, recall, f1, ham_held = at_default
    bars.check("one SELECT per score", len(statements) == 1, f"{len(statements)} statements")
    bars.check(
        f"precision at {threshold:.2f}",
        precision >= PRECISION_BAR,
        f"{precision:.1%} (bar {PRECISION_BAR:.0%})",
    )
    bars.check(
        f"ham held at {threshold:.2f}",
        ham_held <= HAM_HELD_BAR,
        f"{ham_held:.1%} (bar {HAM_HELD_BAR:.0%})",
    )
    bars.check("hostile text", slowest <= HOSTILE_BAR, f"{slowest:.1f}x (bar {HOSTILE_BAR}x)")
    bars.info(f"recall at {threshold:.2f}: {recall:.1%}, F1 {f1:.3f}")
    return bars.report()


def labelled_set(corpus: Path, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, test): spam from misc.forsale opening posts, ham from the other boards, split by thread."""
    from forum.markup import render_markdown

    rng = random.Random(seed)
    spam_posts, ham_posts = [], []
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            post = json.loads(line)
            if "board" not in post:
                continue
            text = f"{post['subject']}\n\n{strip_headers(post['body'])}"
            if post["board"] == SPAM_BOARD:
                if not post["subject"].lower().startswith("re:"):
                    spam_posts.append((post["thread"], text))
            else:
                ham_posts.append((post["board"] + post["thread"], text))
    ham_posts = rng.sample(ham_posts, min(len(ham_posts), HAM_PER_SPAM * len(spam_posts)))
    domains = campaign_domains(rng)
    train, test = [], []
    for is_spam, posts in ((True, spam_posts), (False, ham_posts)):
        for thread, text in posts:
            in_train = zlib.crc32(thread.encode()) % 100 < TRAIN_SHARE * 100
            kind = ""
            if is_spam and rng.random() < SPAM_LINK_SHARE:
                kind = "campaign" if in_train or rng.random() < 0.5 else "fresh"
                text = add_spam_links(text, domains[kind], rng)
            elif not is_spam and rng.random() < HAM_LINK_SHARE:
                text += f"\n\nSee https://{rng.choice(_HAM_DOMAINS)}{rng.randrange(10_000)}"
            (train if in_train else test).append(Example(str(render_markdown(text)), is_spam, kind))
    rng.shuffle(train)
    return train, test


def strip_headers(body: str) -> str:
    """A body without the Usenet header lines some posts begin with."""
    lines = body.splitlines()
    while lines and _HEADER.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines).strip()


def campaign_domains(rng: random.Random) -> dict[str, list[str]]:
    names = [
        a + "-" + b + tld
        for a in _CAMPAIGN_WORDS[0]
        for b in _CAMPAIGN_WORDS[1]
        for tld in _CAMPAIGN_WORDS[2]
    ]
    rng.shuffle(names)
    return {"campaign": names[:40], "fresh": names[40:80]}


def add_spam_links(text: str, domains: list[str], rng: random.Random) -> str:
    links = [
        rng.choice(_SPAM_LINK_LINES).format(
            url=f"https://{rng.choice(domains)}/item/{rng.randrange(10_000)}"
        )
        for _ in range(rng.randint(1, 4))
    ]
    return text + "\n\n" + "\n\n".join(links)


def run(app, train: list, test: list) -> list[tuple[float, bool]]:
    """Forget everything, learn the train decisions, and score the test posts: (probability, is_spam)."""
    from sqlalchemy import delete

    from forum import spam
    from forum.database import write_transaction
    from forum.extensions import db
    from forum.models import SpamToken

    with app.app_context():
        with write_transaction() as session:
            session.execute(delete(SpamToken))
            for example, found in train:
                spam.learn_tokens(session, found, example.is_spam)
        return [
            (spam.score_tokens(db.session, found).probability or 0.0, example.is_spam)
            for example, found in test
        ]


def naive_product_scores(app, test: list) -> list[tuple[float, bool]]:
    """The same token probabilities combined as a plain naive Bayes product over every token
    (the comparison for Robinson's Fisher combination), against the counts learnt last."""
    from sqlalchemy import select

    from forum import spam
    from forum.extensions import db
    from forum.models import SpamToken

    with app.app_context():
        counts = {
            row.token: (row.spam_count, row.ham_count)
            for row in db.session.scalars(select(SpamToken))
        }
    spam_total, ham_total = counts.pop(spam.TOTALS)
    scores = []
    for example, found in test:
        log_odds = sum(
            math.log(p / (1 - p))
            for token in found
            if token in counts
            for p in [spam._token_probability(*counts[token], spam_total, ham_total)]
        )
        scores.append((1 / (1 + math.exp(-max(-700.0, min(700.0, log_odds)))), example.is_spam))
    return scores


def hostile_texts() -> list[str]:
    """Text that makes careless regular expressions backtrack: unclosed tags and links."""
    pieces = ["<a ", "<", '<a href="', "http://a", "$a-", "<a x", "www.a."]
    return [(piece * HOSTILE_LENGTH)[:HOSTILE_LENGTH] for piece in pieces]


def tokenising_time(text: str) -> float:
    """Best of three: other work on the machine only ever adds time."""
    from forum import spam

    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        spam.tokens(text)
        best = min(best, time.perf_counter() - started)
    return best


def measure(scores: list[tuple[float, bool]], threshold: float) -> list[float]:
    """[precision, recall, F1, share of ham held] when posts over the threshold are held."""
    held_spam = sum(p > threshold and s for p, s in scores)
    held_ham = sum(p > threshold and not s for p, s in scores)
    spam = sum(s for _, s in scores)
    precision = held_spam / (held_spam + held_ham) if held_spam + held_ham else 1.0
    recall = held_spam / spam
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return [precision, recall, f1, held_ham / (len(scores) - spam)]


def print_header(first: str = "threshold") -> None:
    print(f"  {first:<28} {'precision':>9} {'recall':>7} {'F1':>6} {'ham held':>9}")


def print_row(label: str, figures: list[float]) -> None:
    precision, recall, f1, ham_held = figures
    print(f"  {label:<28} {precision:>9.1%} {recall:>7.1%} {f1:>6.3f} {ham_held:>9.1%}")


if __name__ == "__main__":
    raise SystemExit(main())
