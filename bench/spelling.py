"""Benchmark the spelling corrector against Norvig's and Whoosh's on Norvig's test set."""

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from whoosh import analysis, fields
from whoosh.filedb.filestore import RamStorage

from forum.search.spelling import SpellingCorrector

ACCURACY_BAR = 0.80
ACCURACY_TARGET = 0.85
REPEATS = 5  # a word's time is its best run: other work on the machine only ever adds time
SLOW = 0.01  # seconds: a word this slow runs once, its noise is small beside it
Correct = Callable[[str], str]
OURS, NORVIG = "SpellingCorrector (noisy channel)", "Norvig (fewest edits, commonest)"


def read_counts(path: Path) -> dict[str, int]:
    """Lines "word count"; ";;;" lines are comments."""
    counts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith(";"):
            counts[parts[0]] = int(parts[1])
    return counts


def read_testset(path: Path) -> list[tuple[str, str]]:
    """Lines "right: wrong1 wrong2 ..." as (wrong, right) pairs."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        right, _, wrongs = line.partition(":")
        pairs += [(wrong, right.strip()) for wrong in wrongs.split()]
    return pairs


class NorvigCorrector:
    """Norvig's corrector as he wrote it: the known words fewest edits away, the commonest."""

    letters = "abcdefghijklmnopqrstuvwxyz"

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts
        self.total = sum(counts.values())

    def probability(self, word: str) -> float:
        """P(word): its share of the counts."""
        return self.counts.get(word, 0) / self.total

    def correct(self, word: str) -> str:
        """The likeliest of the nearest candidates."""
        return max(self.candidates(word), key=self.probability)

    def candidates(self, word: str) -> set[str] | list[str]:
        """The word if known, else the known words one edit away, else two, else the word."""
        return (
            self.known([word])
            or self.known(self.edits1(word))
            or self.known(self.edits2(word))
            or [word]
        )

    def known(self, words: Iterable[str]) -> set[str]:
        """The words that are in the counts."""
        return {w for w in words if w in self.counts}

    def edits1(self, word: str) -> set[str]:
        """Every string one delete, transpose, replace or insert away."""
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        deletes = [left + right[1:] for left, right in splits if right]
        transposes = [
            left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1
        ]
        replaces = [left + c + right[1:] for left, right in splits if right for c in self.letters]
        inserts = [left + c + right for left, right in splits for c in self.letters]
        return set(deletes + transposes + replaces + inserts)

    def edits2(self, word: str) -> Iterator[str]:
        """Every string two edits away (lazily: most words never get this far)."""
        return (e2 for e1 in self.edits1(word) for e2 in self.edits1(e1))


class WhooshCorrector:
    """Whoosh's ReaderCorrector over a RAM index whose terms weigh their counts.

    One document per word, boosted by its count, so the reader's frequency of the word is the
    count. Whoosh ranks every known word within two edits by that frequency alone.
    """

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts
        schema = fields.Schema(
            word=fields.TEXT(analyzer=analysis.IDTokenizer(), phrase=False, spelling=True)
        )
        index = RamStorage().create_index(schema)
        with index.writer() as writer:
            for word, count in counts.items():
                writer.add_document(word=word, _word_boost=float(count))
        self.corrector = index.searcher().corrector("word")

    def correct(self, word: str) -> str:
        """The word if known, else Whoosh's first suggestion within two edits, else the word."""
        if word in self.counts:
            return word
        return next(iter(self.corrector.suggest(word, limit=1, maxdist=2)), word)


@contextmanager
def no_gc() -> Iterator[None]:
    """Keep the garbage collector from landing a pause in one corrector's timings."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def measure(correct: Correct, pairs: list[tuple[str, str]]) -> tuple[float, list[float]]:
    """Accuracy over the pairs, and each word's time: the best of up to REPEATS runs."""
    right, times = 0, []
    with no_gc():
        for wrong, expected in pairs:
            runs: list[float] = []
            while len(runs) < REPEATS and sum(runs) <= SLOW:
                start = time.perf_counter()
                answer = correct(wrong)
                runs.append(time.perf_counter() - start)
            right += answer == expected
            times.append(min(runs))
    return right / len(pairs), times


def p95(times: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(times, n=20)[-1]


def build_cost(counts: Mapping[str, int]) -> tuple[SpellingCorrector, float, float, float]:
    """The corrector, its build's wall and CPU seconds, and the megabytes it holds.

    CPU time is what a busy machine cannot inflate; memory is traced in a second build.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    corrector = SpellingCorrector.from_counts(counts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tracemalloc.start()
    traced = SpellingCorrector.from_counts(counts)
    held = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    del traced
    return corrector, wall, cpu, held


def main() -> None:
    """Measure the three correctors on the test set and print whether the bars are met."""
    parser = argparse.ArgumentParser(description=__doc__)
    data = Path("../shared/data/spelling")
    parser.add_argument("--counts", type=Path, default=data / "textblob-en-spelling.txt")
    parser.add_argument("--testset", type=Path, default=data / "spell-testset1.txt")
    args = parser.parse_args()
    counts, pairs = read_counts(args.counts), read_testset(args.testset)
    print(
        f"{len(pairs)} misspellings from {args.testset.name}, {len(counts)} words in {args.counts.name}"
    )

    ours, wall, cpu, held = build_cost(counts)
    print(f"SpellingCorrector.from_counts: {wall:.2f} s ({cpu:.2f} s CPU), {held:.0f} MB held\n")
    correctors = {
        OURS: ours.correct,
        NORVIG: NorvigCorrector(counts).correct,
        "Whoosh ReaderCorrector (commonest)": WhooshCorrector(counts).correct,
    }
    print(f"{'corrector':36} {'accuracy':>8} {'median':>11} {'p95':>11}")
    results = {}
    for name, correct in correctors.items():
        accuracy, times = measure(correct, pairs)
        median, slow = statistics.median(times) * 1e6, p95(times) * 1e6
        results[name] = accuracy, median, slow
        print(f"{name:36} {accuracy:8.1%} {median:8.0f} µs {slow:8.0f} µs")

    accuracy, _, ours_p95 = results[OURS]
    norvig_median = results[NORVIG][1]
    ratio = ours_p95 / norvig_median
    print(f"\nSpellingCorrector p95 / Norvig median: {ratio:.2f} (bar: < 1)")
    print(
        f"accuracy target {ACCURACY_TARGET:.0%}: {'met' if accuracy >= ACCURACY_TARGET else 'not met'}"
    )
    passed = accuracy >= ACCURACY_BAR and ratio < 1
    print(
        f"{'PASS' if passed else 'FAIL'}: accuracy {accuracy:.1%} (bar {ACCURACY_BAR:.0%}), "
        f"p95 {ours_p95:.0f} µs vs Norvig median {norvig_median:.0f} µs"
    )


if __name__ == "__main__":
    main()
