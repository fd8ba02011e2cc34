"""How well a forum's own vocabulary corrects Norvig's test set, before and after the shipped word list.

Before: only words found in two posts or more are offered as corrections. After
(forum/search/spelling_store.is_target): common English words (forum/data/english-words.txt) are
offered from their first post. Three forums: the demo thread (6 posts), a young forum (the demo plus
the first 300 posts of 20news) and the whole 20news corpus (11,314 posts). The vocabulary is each
post's unstemmed words counted once per post, as the index's spelling tables count them.

Per forum and rule: accuracy on all 270 misspellings; on those whose right word the forum has at
all ("reachable": no corrector built from the forum can do better there); wrong corrections (a
different word offered, which sends a searcher astray); and how many offered words are themselves
misspellings on Wikipedia's list (what the two-post rule protects against).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from _common import DEFAULT_CORPUS, PROJECT_ROOT
from spelling import read_testset

from forum.markup import plain_text
from forum.search.index import ANALYZER
from forum.search.spelling import EditCosts, SpellingCorrector, index_deletes
from forum.search.spelling_store import MIN_TARGET_COUNT, is_target

DEMO = PROJECT_ROOT / "forum" / "data" / "demo" / "interview-thread.jsonl"
SPELLING = PROJECT_ROOT.parent / "shared" / "data" / "spelling"
YOUNG_FORUM_POSTS = 300
Rule = Callable[[str, int], bool]


def two_posts(word: str, count: int) -> bool:
    """The rule before: a word is offered once found in two posts."""
    return count >= MIN_TARGET_COUNT and word.isalpha()


RULES: dict[str, Rule] = {"before (2 posts)": two_posts, "after (+ English list)": is_target}


def posts(path: Path, limit: int | None = None) -> Iterator[tuple[str, str]]:
    """(subject, body) of the posts of an import file, gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        taken = 0
        for line in lines:
            item = json.loads(line)
            if "body" not in item:
                continue
            if limit is not None and taken >= limit:
                return
            taken += 1
            yield item["subject"], item["body"]


def vocabulary(documents: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Each unstemmed word with the number of posts that have it."""
    counts: dict[str, int] = {}
    for subject, body in documents:
        words = {t.text for t in ANALYZER(f"{subject} {plain_text(body)}", no_morph=True)}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return counts


def corrector(counts: dict[str, int], rule: Rule) -> tuple[SpellingCorrector, set[str]]:
    """A corrector offering the words the rule allows, as SpellingStore builds its tables."""
    targets = {w for w, n in counts.items() if rule(w, n)}
    deletes = tuple(index_deletes(targets))
    return SpellingCorrector(counts, EditCosts.shipped(), deletes=deletes), targets


def known_misspellings(path: Path) -> set[str]:
    """The misspelt side of Wikipedia's "misspelling->correction" lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.partition("->")[0].lower() for line in lines if "->" in line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--spelling", type=Path, default=SPELLING, help="the spelling data folder")
    args = parser.parse_args()
    pairs = read_testset(args.spelling / "spell-testset1.txt")
    typos = known_misspellings(args.spelling / "wikipedia-misspellings.txt")
    demo = list(posts(DEMO))
    forums = {
        "demo thread": demo,
        f"demo + {YOUNG_FORUM_POSTS} posts": demo + list(posts(args.corpus, YOUNG_FORUM_POSTS)),
        "20news (all)": list(posts(args.corpus)),
    }
    print(f"{len(pairs)} misspellings from spell-testset1.txt\n")
    print(
        f"{'forum':22} {'rule':24} {'posts':>6} {'offered':>8} {'typos':>6} "
        f"{'accuracy':>9} {'reachable':>14} {'wrong':>6}"
    )
    for name, documents in forums.items():
        counts = vocabulary(documents)
        reachable = [(wrong, right) for wrong, right in pairs if right in counts]
        for rule_name, rule in RULES.items():
            fixer, targets = corrector(counts, rule)
            answers = [(fixer.correct(wrong), right) for wrong, right in pairs]
            right = sum(answer == expected for answer, expected in answers)
            reached = sum(fixer.correct(wrong) == expected for wrong, expected in reachable)
            wrong = sum(
                answer != expected and answer != typo
                for (answer, expected), (typo, _) in zip(answers, pairs, strict=True)
            )
            share = f"{reached}/{len(reachable)} {reached / max(len(reachable), 1):5.1%}"
            print(
                f"{name:22} {rule_name:24} {len(documents):6} {len(targets):8} "
                f"{len(targets & typos):6} {right / len(pairs):9.1%} {share:>14} {wrong:6}"
            )
    print(
        "\noffered: words offered as corrections; typos: of those, misspellings on Wikipedia's "
        "list;\nreachable: correct among misspellings whose right word the forum has; wrong: a "
        "different word offered"
    )


if __name__ == "__main__":
    main()
