"""Learn the spelling corrector's per-edit costs from a list of real misspellings."""

import argparse
import json
import math
import string
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

START = "^"
LETTERS = string.ascii_lowercase
OPS = ("del", "ins", "sub", "swap")
ITERATIONS = 3  # hard EM: realign with the learned costs, re-count; it settles after two or three
SMOOTHING = 5.0  # pseudo-observations drawn from the coarser estimate a context backs off to
MAX_EDITS = 3  # pairs further apart are rewrites rather than typos

Edit = tuple[str, str]  # (op, key): see spelling.EditCosts for what each key means
CostFn = Callable[[str, str], float]


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(misspelling, first correction) pairs of single alphabetic words, lowercased."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        typo, _, corrections = line.partition("->")
        word = corrections.split(",")[0].strip().lower()
        typo = typo.strip().lower()
        if typo != word and typo.isalpha() and word.isalpha():
            pairs.append((typo, word))
    return pairs


def align(typo: str, word: str, cost: CostFn) -> list[Edit]:
    """The cheapest edits turning word into typo (optimal string alignment, with backtrace)."""
    start = 0
    while start < min(len(typo), len(word)) and typo[start] == word[start]:
        start += 1
    end = 0
    while end < min(len(typo), len(word)) - start and typo[-1 - end] == word[-1 - end]:
        end += 1
    prev = word[start - 1] if start else START
    t, w = typo[start : len(typo) - end], word[start : len(word) - end]
    # w is padded with its context character so that w[i - 1] is the letter before w[i].
    w = prev + w
    inf = math.inf
    rows, cols = len(w), len(t) + 1
    best = [[inf] * cols for _ in range(rows)]
    step: list[list[tuple[int, int, Edit | None]]] = [[(0, 0, None)] * cols for _ in range(rows)]
    best[0][0] = 0.0
    for i in range(rows):
        for j in range(cols):
            here = best[i][j]
            if here == inf:
                continue
            moves: list[tuple[int, int, Edit | None]] = []
            if i + 1 < rows:
                moves.append((i + 1, j, ("del", w[i] + w[i + 1])))
            if j + 1 < cols:
                moves.append((i, j + 1, ("ins", w[i] + t[j])))
            if i + 1 < rows and j + 1 < cols:
                same = w[i + 1] == t[j]
                moves.append((i + 1, j + 1, None if same else ("sub", w[i + 1] + t[j])))
            if i + 2 < rows and j + 2 < cols and w[i + 1] == t[j + 1] and w[i + 2] == t[j]:
                moves.append((i + 2, j + 2, ("swap", w[i + 1] + w[i + 2])))
            for ni, nj, edit in moves:
                total = here + (cost(*edit) if edit else 0.0)
                if total < best[ni][nj]:
                    best[ni][nj] = total
                    step[ni][nj] = (i, j, edit)
    edits = []
    i, j = rows - 1, cols - 1
    while i or j:
        i, j, edit = step[i][j]
        if edit:
            edits.append(edit)
    return edits


def context_counts(words: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """How often each letter and each letter pair occurs (with ^ before the first letter)."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for word in words:
        padded = START + word
        unigrams.update(padded)
        bigrams.update(padded[i : i + 2] for i in range(len(word)))
    return unigrams, bigrams


def estimate(edits: Counter[Edit], unigrams: Counter[str], bigrams: Counter[str]) -> dict:
    """-ln P(edit | context), each context smoothed towards its op's context-free rate."""
    letters = sum(unigrams[c] for c in LETTERS)
    by_op = Counter(op for op, _ in edits.elements())
    rate = {op: by_op[op] / letters for op in OPS}
    rate["sub"] /= len(LETTERS) - 1  # a given substitution, not any substitution
    rate["ins"] /= len(LETTERS)  # a given inserted letter
    contexts = [START, *LETTERS]

    def smoothed(count: int, seen: int, prior: float) -> float:
        return round(-math.log((count + SMOOTHING * prior) / (seen + SMOOTHING)), 3)

    # Each key's denominator: how often the context the edit needs occurs in correct words.
    opportunity = {
        "del": lambda key: bigrams[key],
        "ins": lambda key: unigrams[key[0]],
        "sub": lambda key: unigrams[key[0]],
        "swap": lambda key: bigrams[key],
    }
    costs: dict = {"default": {op: round(-math.log(rate[op]), 3) for op in OPS}}
    for op in OPS:
        firsts = contexts if op in ("del", "ins") else LETTERS
        keys = [a + b for a in firsts for b in LETTERS if op in ("del", "ins") or a != b]
        costs[op] = {k: smoothed(edits[op, k], opportunity[op](k), rate[op]) for k in keys}
    return costs


def train(pairs: list[tuple[str, str]]) -> dict:
    """Hard EM: align every pair with the current costs, re-estimate the costs from the edits."""
    unigrams, bigrams = context_counts(word for _, word in pairs)
    costs: dict = {}

    def cost(op: str, key: str) -> float:
        return costs[op].get(key, costs["default"][op]) if costs else 1.0

    for _ in range(ITERATIONS):
        edits: Counter[Edit] = Counter()
        for typo, word in pairs:
            aligned = align(typo, word, cost)
            if len(aligned) <= MAX_EDITS:
                edits.update(aligned)
        costs = estimate(edits, unigrams, bigrams)
    costs["pairs"] = len(pairs)
    return costs


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
    costs = train(read_pairs(args.misspellings))
    args.out.write_text(json.dumps(costs, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    print(f"{costs['pairs']} pairs -> {args.out}")


if __name__ == "__main__":
    main()
