"""Spelling correction for search terms ("Did you mean: interview"), ranked by a noisy channel."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files

START = "^"  # context of an edit at the start of a word
MAX_EDITS = 2  # Norvig's bound: few typos are further from the word meant
PREFIX_LENGTH = 7  # SymSpell: index deletes of a word's first letters only, then verify
MIN_LENGTH = 3  # "th", "ot": too little to go on, and a wrong guess costs more than none
SHORT_WORD = 4  # two edits from a word this short reach hundreds of words: allow one
PRIOR_WEIGHT = 0.7  # log P(word) weight, tuned on held-out Wikipedia misspellings

Edit = tuple[str, str]  # (op, two letters of the intended word, or the letter before and after)
# An op's letters taken from (word, typo): delete drops one, insert adds one, substitute
# replaces one, swap transposes two.
OP_SHAPES = {"del": (1, 0), "ins": (0, 1), "sub": (1, 1), "swap": (2, 2)}


def alignments(typo: str, word: str, max_edits: int = MAX_EDITS) -> Iterator[tuple[Edit, ...]]:
    """Every way of turning word into typo with at most max_edits edits (Damerau-Levenshtein).

    The common prefix and suffix are taken as typed right, so one edit must start the differing
    middle and the other end it. Each edit is keyed by the letter of word before it, as people
    drop a doubled letter or type an extra one depending on what they have just typed.
    """
    start, shortest = 0, min(len(typo), len(word))
    while start < shortest and typo[start] == word[start]:
        start += 1
    end = 0
    while end < shortest - start and typo[-1 - end] == word[-1 - end]:
        end += 1
    before = word[start - 1] if start else START
    w, t = word[start : len(word) - end], typo[start : len(typo) - end]
    if abs(len(w) - len(t)) > max_edits:
        return
    for op, (wl, tl) in OP_SHAPES.items():
        if (len(w), len(t)) == (wl, tl):
            edit = _edit(op, before, w, t)
            if edit:
                yield (edit,)
    if max_edits < 2:
        return
    for first, (wa, ta) in OP_SHAPES.items():
        for last, (wb, tb) in OP_SHAPES.items():
            middle = len(w) - wa - wb
            if (
                middle < 0
                or middle != len(t) - ta - tb
                or w[wa : wa + middle] != t[ta : ta + middle]
            ):
                continue
            head = _edit(first, before, w[:wa], t[:ta])
            tail = _edit(
                last,
                w[len(w) - wb - 1] if len(w) > wb else before,
                w[len(w) - wb :],
                t[len(t) - tb :],
            )
            if head and tail:
                yield head, tail


def _edit(op: str, before: str, w: str, t: str) -> Edit | None:
    """The edit turning w into t, keyed by its context, or None if op does not do that."""
    if op == "del":
        return (op, before + w)
    if op == "ins":
        return (op, before + t)
    if op == "sub":
        return (op, w + t) if w != t else None
    return (op, w) if w[0] != w[1] and t == w[::-1] else None


@dataclass(frozen=True)
class EditCosts:
    """-ln P(edit | context) of the edits people make when they misspell a word.

    Keys are two letters: ``del`` "xy" drops y after x, ``ins`` "xy" types an extra y after x,
    ``sub`` "xy" types y for x, ``swap`` "xy" types "yx"; x is ``^`` at the start of the word.
    Learned by bench/train_spelling.py from Wikipedia's list of common misspellings.
    """

    costs: Mapping[str, Mapping[str, float]]
    default: Mapping[str, float]

    @classmethod
    def shipped(cls) -> EditCosts:
        """The costs generated into this package, so the forum runs without the training data."""
        data = json.loads(files(__package__).joinpath("edit_weights.json").read_text("utf-8"))
        return cls({op: data[op] for op in OP_SHAPES}, data["default"])

    def edit(self, op: str, key: str) -> float:
        """Cost of one edit (the op's average for letters never seen in training)."""
        return self.costs[op].get(key, self.default[op])

    def cost(self, typo: str, word: str, max_edits: int = MAX_EDITS) -> float | None:
        """-ln P(typo | word) by its cheapest alignment, None if more than max_edits apart."""
        edit = self.edit
        return min(
            (
                sum(edit(op, key) for op, key in aligned)
                for aligned in alignments(typo, word, max_edits)
            ),
            default=None,
        )


def _deletes(text: str, depth: int) -> set[str]:
    """Every string made from text by deleting exactly depth characters."""
    layer = {text}
    for _ in range(depth):
        layer = {v[:i] + v[i + 1 :] for v in layer for i in range(len(v))}
    return layer


class SpellingCorrector:
    """Corrects a search term to the vocabulary word the searcher most likely meant.

    As in Norvig's corrector, a word one edit away beats any two edits away; within that,
    candidates are ranked by P(word) * P(term | word), the second from per-edit costs learned from
    real typos. Candidates come from symmetric deletes (SymSpell) precomputed over the vocabulary.
    """

    def __init__(self, counts: Mapping[str, int], costs: EditCosts) -> None:
        self._counts = counts
        self._costs = costs
        log_total = math.log(max(sum(counts.values()), 1))
        self._longest = max(map(len, counts), default=0)
        self._log_prior = {w: PRIOR_WEIGHT * (math.log(n) - log_total) for w, n in counts.items()}
        # _deletes[d][variant]: the words whose prefix becomes variant by deleting d letters.
        self._by_deletes: list[dict[str, tuple[str, ...]]] = [{}, {}, {}]
        for word in counts:
            if word.isalpha():
                alone = (word,)
                for depth, index in enumerate(self._by_deletes):
                    for variant in _deletes(word[:PREFIX_LENGTH], depth):
                        index[variant] = index.get(variant, ()) + alone

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
        """The word, lowercased, if known or nothing close is known; else its best correction.

        Terms shorter than three letters or with anything but letters in them (numbers, code,
        part numbers) are left as they are: a guess there does more harm than good.
        """
        lowered = word.lower()
        if lowered in self._counts or not self._correctable(lowered):
            return lowered if lowered in self._counts else word
        best = self._ranked(lowered)
        return best[0] if best else lowered

    def suggest(self, word: str, limit: int = 5) -> list[str]:
        """Up to limit known words the searcher may have meant, best first (the word if known)."""
        lowered = word.lower()
        known = [lowered] if lowered in self._counts else []
        if not self._correctable(lowered):
            return known[:limit]
        return (known + self._ranked(lowered))[:limit]

    def _correctable(self, word: str) -> bool:
        return MIN_LENGTH <= len(word) <= self._longest + MAX_EDITS and word.isalpha()

    def _ranked(self, typo: str) -> list[str]:
        """Known words one edit away, else two, by log P(word) + log P(typo | word), best first."""
        for edits in range(1, 1 + (1 if len(typo) <= SHORT_WORD else MAX_EDITS)):
            scored = []
            for word in self._candidates(typo, edits):
                cost = self._costs.cost(typo, word, edits)
                if cost is not None:
                    scored.append((self._log_prior[word] - cost, word))
            if scored:
                return [word for _, word in sorted(scored, reverse=True)]
        return []

    def _candidates(self, typo: str, edits: int) -> set[str]:
        """Words whose prefix shares a variant with the typo's, deleting up to edits letters each."""
        prefix, found = typo[:PREFIX_LENGTH], set()
        for typo_depth in range(edits + 1):
            variants = _deletes(prefix, typo_depth)
            for index in self._by_deletes[: edits + 1]:
                found.update(*filter(None, map(index.get, variants)))
        return {w for w in found if abs(len(w) - len(typo)) <= edits}
