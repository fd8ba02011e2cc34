"""Learn the spelling corrector's edit costs from a list of real misspellings.

Run from the project root: .venv/bin/python bench/train_spelling.py [--misspellings PATH]
[--out PATH]. It rewrites forum/search/edit_weights.json, which ships with the package.
"""

import argparse
import json
import math
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from forum.search.spelling import SHAPES, START, Edit, EditCosts

LETTERS = string.ascii_lowercase
ITERATIONS = 3  # hard EM: align with the last costs, count the edits; settled after three
SMOOTHING = 100.0  # opportunities' worth of weight given to the coarser estimate backed off to
Table = dict[str, dict[str, float]]  # op -> key -> cost, plus "default" -> op -> cost


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(misspelling, first correction) pairs of single alphabetic words, lowercased."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        typo, _, corrections = line.partition("->")
        typo, word = typo.strip().lower(), corrections.split(",")[0].strip().lower()
        if typo != word and typo.isalpha() and word.isalpha():
            pairs.append((typo, word))
    return pairs


def opportunities(words: Iterable[str]) -> Counter[str]:
    """How often each edit key's context occurs in the words (what the key is out of)."""
    seen: Counter[str] = Counter()
    for word in words:
        padded = START + word
        seen.update(padded)  # a letter to mistype or type another after (^: the start)
        seen.update(padded[i : i + 2] for i in range(len(word)))  # a letter after another
        seen[padded[:3]] += 1  # the first two letters, to swap
    return seen


def keys(op: str) -> list[str]:
    """Every key of op over a-z, contexts included (what the generated table covers)."""
    befores = [START, *LETTERS]
    if op in ("del", "ins"):
        return [b + x for b in befores for x in LETTERS]
    pairs = [x + y for x in LETTERS for y in LETTERS if x != y]
    return pairs + [START + p for p in pairs]


def estimate(edits: Counter[Edit], seen: Counter[str]) -> Table:
    """-ln P(edit | context), each smoothed towards the estimate without the context."""
    letters = sum(seen[c] for c in LETTERS)
    total = Counter(op for op, _ in edits.elements())
    # The chance of the op at a letter, spread evenly over the letters it could bring in.
    spread = {"ins": len(LETTERS), "sub": len(LETTERS) - 1}
    rate = {op: total[op] / letters / spread.get(op, 1) for op in SHAPES}

    def chance(op: str, key: str) -> float:
        """P(edit | context): its count out of the context's, drawn towards a coarser guess."""
        if op == "sub" and key.startswith(START):
            prior, context = chance(op, key[1:]), key[:2]  # the first letter, as anywhere
        elif op == "swap" and key.startswith(START):
            prior, context = chance(op, key[1:]), key  # the first two letters, as anywhere
        elif op == "ins":
            prior, context = rate[op], key[0]  # an extra letter after key[0]
        elif op == "sub":
            prior, context = rate[op], key[0]  # key[0] mistyped as key[1]
        else:
            prior, context = rate[op], key  # key[1] dropped after key[0]; key swapped
        return (edits[op, key] + SMOOTHING * prior) / (seen[context] + SMOOTHING)

    table = {op: {k: round(-math.log(chance(op, k)), 3) for k in keys(op)} for op in SHAPES}
    table["default"] = {op: round(-math.log(rate[op]), 3) for op in SHAPES}
    return table


def train(pairs: list[tuple[str, str]]) -> Table:
    """Hard EM: align every pair by the current costs, then re-estimate them from the edits."""
    seen = opportunities(word for _, word in pairs)
    costs, table = EditCosts.uniform(), {}  # first alignments: by plain edit distance
    for _ in range(ITERATIONS):
        edits: Counter[Edit] = Counter()
        for typo, word in pairs:
            aligned = costs.align(typo, word)
            if aligned:
                edits.update(aligned[1])
        table = estimate(edits, seen)
        costs = EditCosts({op: table[op] for op in SHAPES}, table["default"])
    return table


def main() -> None:
    """Read the misspellings, learn the costs, write them where spelling.py loads them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--misspellings",
        type=Path,
        default=Path("../shared/data/spelling/wikipedia-misspellings.txt"),
        help="lines 'misspelling->correction[, correction...]'",
    )
    parser.add_argument("--out", type=Path, default=Path("forum/search/edit_weights.json"))
    args = parser.parse_args()
    pairs = read_pairs(args.misspellings)
    args.out.write_text(json.dumps(train(pairs), sort_keys=True, indent=0) + "\n", encoding="utf-8")
    print(f"learned from {len(pairs)} pairs -> {args.out}")


if __name__ == "__main__":
    main()
