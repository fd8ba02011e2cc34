"""Spelling correction for search terms ("Did you mean: interview"), ranked by a noisy channel."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

START = "^"  # the context of an edit at the start of a word
MAX_EDITS = 2  # Norvig's bound: few typos are further from the word meant
# SymSpell indexes deletes of a word's first letters only; 8 keeps most words whole, so the
# candidates are few to verify (7 halves the memory but doubles the slowest lookups).
PREFIX_LENGTH = 8
MIN_LENGTH = 3  # "th", "ot": too little to go on, and a wrong guess costs more than none
ONE_EDIT_UP_TO = 5  # two edits from a word this short reach hundreds of words
# Score = PRIOR_WEIGHT * log P(word) - cost: a held-out fifth of the Wikipedia list scores
# best from 0.5 to 0.7, and lower at 1 (the plain product of the probabilities).
PRIOR_WEIGHT = 0.7

Edit = tuple[str, str]  # (op, key): see EditCosts
# Letters an op takes from (word, typo): drop one, type an extra one, mistype one, swap two.
SHAPES = {"del": (1, 0), "ins": (0, 1), "sub": (1, 1), "swap": (2, 2)}
# An alignment's first op and the letters it takes from (word, typo), then its last one's
# (None, 0, 0 when a single edit covers the difference).
Plan = tuple[str, int, int, str | None, int, int]


def _plans() -> dict[int, list[Plan]]:
    """Every plan of one edit, then of two, by how much longer it makes the word than the typo."""
    plans: dict[int, list[Plan]] = {}
    singles = [(op, None) for op in SHAPES]
    pairs: list[tuple[str, str | None]] = [(a, b) for a in SHAPES for b in SHAPES]
    for head, tail in singles + pairs:
        (wa, ta), (wb, tb) = SHAPES[head], SHAPES[tail] if tail else (0, 0)
        plans.setdefault(wa - ta + wb - tb, []).append((head, wa, ta, tail, wb, tb))
    return plans


PLANS = _plans()


@cache
def english_words() -> frozenset[str]:
    """Common English words (forum/data/english-words.txt, with its licence beside it)."""
    text = files("forum.data").joinpath("english-words.txt").read_text("utf-8")
    return frozenset(text.split())


@dataclass(frozen=True)
class EditCosts:
    """-ln P(edit | context) of the edits people make when they misspell a word.

    Keys: ``del`` "xy" drops y after x, ``ins`` "xy" types an extra y after x (x is ``^`` at
    the start of the word); ``sub`` "xy" types y for x, ``swap`` "xy" types "yx", both with
    ``^`` in front at the first letter, where slips are rarer. Learned by
    bench/train_spelling.py from Wikipedia's list of common misspellings.
    """

    costs: Mapping[str, Mapping[str, float]]
    default: Mapping[str, float]  # for letters never seen in training

    @classmethod
    def shipped(cls) -> EditCosts:
        """The costs generated into this package, so the forum runs without the training data."""
        data = json.loads(files(__package__).joinpath("edit_weights.json").read_text("utf-8"))
        return cls({op: data[op] for op in SHAPES}, data["default"])

    @classmethod
    def uniform(cls) -> EditCosts:
        """Every edit costs 1: plain Damerau-Levenshtein distance."""
        return cls({op: {} for op in SHAPES}, dict.fromkeys(SHAPES, 1.0))

    def align(
        self, typo: str, word: str, max_edits: int = MAX_EDITS
    ) -> tuple[float, tuple[Edit, ...]] | None:
        """The cheapest edits turning word into typo, and their cost; None past max_edits.

        The common prefix and suffix are taken as typed right, so one edit starts the differing
        middle and the other ends it (Damerau-Levenshtein: a transposition is one edit). Drops
        and extra letters are keyed by the letter before them: dropping the second "c" of
        "accommodate" is a much likelier slip than dropping a "c" after an "a".
        """
        start, shortest = 0, min(len(typo), len(word))
        while start < shortest and typo[start] == word[start]:
            start += 1
        end = 0
        while end < shortest - start and typo[-1 - end] == word[-1 - end]:
            end += 1
        w, t = word[start : len(word) - end], typo[start : len(typo) - end]
        if not w and not t:
            return 0.0, ()
        before = word[start - 1] if start else START
        costs, default = self.costs, self.default
        lw, lt = len(w), len(t)
        if lw > 4 and w[2 : lw - 2] not in t:
            return None  # two edits take at most two letters off each end: the rest must match
        best: tuple[float, tuple[Edit, ...]] | None = None
        for head, wa, ta, tail, wb, tb in PLANS.get(lw - lt, ()):
            if tail and max_edits < 2:
                break
            if wa + wb > lw or ta + tb > lt or w[wa : lw - wb] != t[ta : lt - tb]:
                continue
            if head == "swap" and t[:2] != w[1::-1]:
                continue
            first = _key(head, before, w[:wa], t[:ta])
            cost, edits = costs[head].get(first, default[head]), ((head, first),)
            if tail:
                w_end, t_end = w[lw - wb :], t[lt - tb :]
                if tail == "swap" and t_end != w_end[::-1]:
                    continue
                last = _key(tail, w[lw - wb - 1] if lw > wb else before, w_end, t_end)
                cost, edits = cost + costs[tail].get(last, default[tail]), (*edits, (tail, last))
            if best is None or cost < best[0]:
                best = (cost, edits)
        return best


def _key(op: str, before: str, w: str, t: str) -> str:
    """What an edit by op turning w into t is keyed by (see EditCosts)."""
    if op == "del":
        return before + w
    if op == "ins":
        return before + t
    key = w + t if op == "sub" else w
    return key if before != START else START + key


def _deletes(words: Iterable[str]) -> set[str]:
    """Every string made from one of words by deleting one character."""
    return {w[:i] + w[i + 1 :] for w in words for i in range(len(w))}


def index_deletes(
    words: Iterable[str],
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Each variant of the words' prefixes with one letter deleted -> the words; with two.

    A term one edit from a word meets it losing at most one letter, two edits two: variants
    shorter than the shortest term that is corrected that far are left out.
    """
    one_deleted: dict[str, tuple[str, ...]] = {}
    two_deleted: dict[str, tuple[str, ...]] = {}
    for word in words:
        alone = (word,)  # shared by every variant no other word has
        first = _deletes([word[:PREFIX_LENGTH]])
        for index, variants, shortest in (
            (one_deleted, first, MIN_LENGTH - 1),
            (two_deleted, _deletes(first), ONE_EDIT_UP_TO + 1 - MAX_EDITS),
        ):
            for variant in variants:
                if len(variant) >= shortest:
                    index[variant] = index.get(variant, ()) + alone
    return one_deleted, two_deleted


class SpellingCorrector:
    """Corrects a search term to the vocabulary word the searcher most likely meant.

    As in Norvig's corrector, a word one edit away beats any two edits away; among them, the
    ranking is P(word) * P(term | word), the second from per-edit costs learned from real typos.
    Candidates come from symmetric deletes (SymSpell) indexed when the corrector is built, with
    from_counts.
    """

    def __init__(
        self,
        counts: Mapping[str, int],
        costs: EditCosts,
        deletes: tuple[Mapping[str, tuple[str, ...]], Mapping[str, tuple[str, ...]]] | None = None,
        total: int | None = None,
        longest: int | None = None,
    ) -> None:
        """counts: lowercase word -> positive count, as from_counts makes them.

        The delete tables, total and longest may come precomputed (SpellingStore keeps them on
        disk, so a web worker neither builds them nor holds them in memory).
        """
        self._counts = counts
        self._costs = costs
        self._log_total = math.log(max(sum(counts.values()) if total is None else total, 1))
        self._longest = max(map(len, counts), default=0) if longest is None else longest
        self._by_deletes = deletes or index_deletes(w for w in counts if w.isalpha())

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], costs: EditCosts | None = None
    ) -> SpellingCorrector:
        """Index a vocabulary of word -> frequency (e.g. an index's terms and document counts)."""
        merged: dict[str, int] = {}
        for word, count in counts.items():
            if count > 0:
                merged[word.lower()] = merged.get(word.lower(), 0) + count
        return cls(merged, costs or EditCosts.shipped())

    def is_known(self, word: str) -> bool:
        """Whether the word is in the vocabulary (any case)."""
        return word.lower() in self._counts

    def frequency(self, word: str) -> int:
        """The word's count in the vocabulary, 0 when unknown."""
        return self._counts.get(word.lower(), 0)

    def correct(self, word: str) -> str:
        """The word (lowercased) if known or nothing close is known, else its likeliest fix.

        Terms shorter than three letters or with anything but letters in them (numbers, code,
        part numbers) are left alone: a guess there is mostly wrong.
        """
        lowered = word.lower()
        if lowered in self._counts or not self._correctable(lowered):
            return lowered
        for edits in range(1, self._max_edits(lowered) + 1):
            ranked = self._ranked(lowered, edits)
            if ranked:
                return ranked[0]
        return lowered

    def suggest(self, word: str, limit: int = 5) -> list[str]:
        """Up to limit known words the searcher may have meant, best first (the word if known)."""
        lowered = word.lower()
        found = [lowered] if lowered in self._counts else []
        if self._correctable(lowered):
            for edits in range(1, self._max_edits(lowered) + 1):
                if len(found) >= limit:
                    break
                found += [w for w in self._ranked(lowered, edits) if w not in found]
        return found[:limit]

    def _correctable(self, word: str) -> bool:
        return MIN_LENGTH <= len(word) <= self._longest + MAX_EDITS and word.isalpha()

    @staticmethod
    def _max_edits(word: str) -> int:
        return 1 if len(word) <= ONE_EDIT_UP_TO else MAX_EDITS

    def _ranked(self, typo: str, edits: int) -> list[str]:
        """Known words up to edits away, by log P(word) + log P(typo | word), best first."""
        scored = []
        for word in self._candidates(typo, edits):
            aligned = self._costs.align(typo, word, edits)
            if aligned:
                log_prior = PRIOR_WEIGHT * (math.log(self._counts[word]) - self._log_total)
                scored.append((log_prior - aligned[0], word))
        return [word for _, word in sorted(scored, reverse=True)]

    def _candidates(self, typo: str, edits: int) -> set[str]:
        """Words whose prefix and the typo's share a variant, deleting up to edits letters each."""
        variants, deleted = {typo[:PREFIX_LENGTH]}, {typo[:PREFIX_LENGTH]}
        for _ in range(edits):
            deleted = _deletes(deleted)
            variants |= deleted
        found = {v for v in variants if v in self._counts}
        for index in self._by_deletes[:edits]:
            found.update(*filter(None, map(index.get, variants)))
        return {w for w in found if abs(len(w) - len(typo)) <= edits}
