"""The spelling corrector's tables on disk: one SQLite file beside each index generation.

Built in full by a rebuild (and by the first drain that finds it missing), then grown by every
drain with the words of the posts it indexes. Web workers open it read-only, so none of them
builds the delete index (seconds of CPU on a large vocabulary) or holds it in memory (tens of MB).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from forum.search.spelling import EditCosts, SpellingCorrector, english_words, index_deletes

# A word of the forum's own (a product name, jargon) is offered as a correction once seen in this
# many posts: a word seen once is as likely a typo itself ("recieve") and would double the tables.
# Common English words are offered from their first post, or a young forum corrects nothing
# ("apointment" when one post says "appointment"). All words still count as known.
MIN_TARGET_COUNT = 2


def is_target(word: str, count: int) -> bool:
    """Whether a word seen in count posts may be offered as a correction."""
    if count < 1 or not word.isalpha():
        return False
    return count >= MIN_TARGET_COUNT or word in english_words()


SCHEMA = """
CREATE TABLE words (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE deletes (variant TEXT NOT NULL, depth INTEGER NOT NULL, words TEXT NOT NULL,
                      PRIMARY KEY (variant, depth)) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""


class _Counts(Mapping[str, int]):
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __getitem__(self, word: str) -> int:
        row = self._db.execute("SELECT count FROM words WHERE word = ?", (word,)).fetchone()
        if row is None:
            raise KeyError(word)
        return row[0]

    def __iter__(self) -> Iterator[str]:
        return (word for (word,) in self._db.execute("SELECT word FROM words"))

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM words").fetchone()[0]


class _Deletes(Mapping[str, tuple[str, ...]]):
    def __init__(self, db: sqlite3.Connection, depth: int) -> None:
        self._db, self._depth = db, depth

    def __getitem__(self, variant: str) -> tuple[str, ...]:
        row = self._db.execute(
            "SELECT words FROM deletes WHERE variant = ? AND depth = ?", (variant, self._depth)
        ).fetchone()
        if row is None:
            raise KeyError(variant)
        return tuple(row[0].split(" "))

    def __iter__(self) -> Iterator[str]:
        rows = self._db.execute("SELECT variant FROM deletes WHERE depth = ?", (self._depth,))
        return (variant for (variant,) in rows)

    def __len__(self) -> int:
        query = "SELECT count(*) FROM deletes WHERE depth = ?"
        return self._db.execute(query, (self._depth,)).fetchone()[0]


class SpellingStore:
    """Reads and writes one generation's spelling tables."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, counts: Mapping[str, int]) -> None:
        """Replace the tables with a vocabulary's counts (atomically: readers see old or new)."""
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        words = {w: n for w, n in counts.items() if n > 0}
        with sqlite3.connect(tmp) as db:
            db.executescript(SCHEMA)
            db.executemany("INSERT INTO words VALUES (?, ?)", words.items())
            targets = (w for w, n in words.items() if is_target(w, n))
            for depth, table in enumerate(index_deletes(targets), 1):
                db.executemany(
                    "INSERT INTO deletes VALUES (?, ?, ?)",
                    ((variant, depth, " ".join(found)) for variant, found in table.items()),
                )
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("total", sum(words.values())), ("longest", max(map(len, words), default=0))],
            )
        db.close()
        os.replace(tmp, self.path)

    def add(self, documents_words: Iterable[set[str]]) -> None:
        """Count each document's words once; words that become targets join the delete tables."""
        counts: dict[str, int] = {}
        for words in documents_words:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        if not counts:
            return
        with sqlite3.connect(self.path, timeout=10) as db:
            before = {}
            for word in counts:
                row = db.execute("SELECT count FROM words WHERE word = ?", (word,)).fetchone()
                before[word] = row[0] if row else 0
            db.executemany(
                "INSERT INTO words VALUES (?, ?) ON CONFLICT (word) DO UPDATE "
                "SET count = count + excluded.count",
                counts.items(),
            )
            new = [
                w
                for w, n in counts.items()
                if is_target(w, before[w] + n) and not is_target(w, before[w])
            ]
            for depth, table in enumerate(index_deletes(new), 1):
                for variant, found in table.items():
                    db.execute(
                        "INSERT INTO deletes VALUES (?, ?, ?) ON CONFLICT (variant, depth) "
                        "DO UPDATE SET words = words || ' ' || excluded.words",
                        (variant, depth, " ".join(found)),
                    )
            db.execute(
                "UPDATE meta SET value = value + ? WHERE key = 'total'", (sum(counts.values()),)
            )
            longest = max(map(len, counts))
            db.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'longest'", (longest,))
        db.close()

    def corrector(self, costs: EditCosts | None = None) -> SpellingCorrector:
        """A corrector reading the tables in place (read-only)."""
        db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(db.execute("SELECT key, value FROM meta"))
        return SpellingCorrector(
            _Counts(db),
            costs or EditCosts.shipped(),
            deletes=(_Deletes(db, 1), _Deletes(db, 2)),
            total=meta["total"],
            longest=meta["longest"],
        )
