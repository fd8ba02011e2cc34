"""Highlighting benchmark: what Pygments costs a post, against rendering the largest plain post.

    .venv/bin/python bench/highlight.py [--rounds N]

Baseline: a 32,000-character post (MAX_POST_LENGTH) of code in a fence with no language, which
markdown-it escapes plain. Cases, each a fence naming its language and just inside the per-post
highlighting budget (MAX_HIGHLIGHTED_CODE): real code (Pygments' own Python lexer source), and
hostile input ("(" repeated, the slowest input found for the Python lexer: about 30 µs a character).
Rendered through forum.markup.render_markdown in turn, round by round; medians, and each case's
ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time

import pygments.lexers.python

from forum.config import Config
from forum.markup import MAX_HIGHLIGHTED_CODE, render_markdown

REAL_CODE = inspect.getsource(pygments.lexers.python) * 2
BUDGET = MAX_HIGHLIGHTED_CODE - 1  # the fence's own closing line break counts too

SOURCES = {
    "baseline: 32,000 plain": "```\n" + REAL_CODE[: Config.MAX_POST_LENGTH - 8] + "\n```",
    "real Python at the budget": "```python\n" + REAL_CODE[:BUDGET] + "\n```",
    "hostile '(' at the budget": "```python\n" + "(" * BUDGET + "\n```",
}


def timed(source: str) -> float:
    start = time.perf_counter()
    render_markdown(source)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in SOURCES}
    for _ in range(rounds):
        for name, source in SOURCES.items():
            times[name].append(timed(source))
    baseline = statistics.median(times["baseline: 32,000 plain"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28} {median * 1000:8.1f} ms {median / baseline:7.1f}x")


if __name__ == "__main__":
    main()
