"""The spelling tables on disk answer as the in-memory corrector does, and grow with new posts."""

from __future__ import annotations

from forum.search.spelling import SpellingCorrector
from forum.search.spelling_store import SpellingStore

COUNTS = {"interview": 50, "interval": 3, "the": 900, "receive": 40, "recieve": 1, "payment": 25}


def test_stored_corrector_corrects_like_the_in_memory_one(tmp_path):
    store = SpellingStore(tmp_path / "spelling.sqlite")
    store.write(COUNTS)
    on_disk, in_memory = (
        store.corrector(),
        SpellingCorrector.from_counts({w: n for w, n in COUNTS.items() if n >= 2}),
    )
    for typo in ["intervew", "interveiw", "teh", "paymnet", "recievd", "xyzzy"]:
        assert on_disk.correct(typo) == in_memory.correct(typo)
    assert on_disk.correct("intervew") == "interview"


def test_a_word_seen_once_is_known_but_never_offered_as_a_correction(tmp_path):
    store = SpellingStore(tmp_path / "spelling.sqlite")
    store.write(COUNTS)
    corrector = store.corrector()
    assert corrector.is_known("recieve")
    assert corrector.suggest("recieve") == ["recieve", "receive"]
    assert corrector.correct("recievx") == "receive"


def test_new_posts_teach_new_words_once_they_are_seen_twice(tmp_path):
    store = SpellingStore(tmp_path / "spelling.sqlite")
    store.write(COUNTS)
    corrector = store.corrector()
    store.add([{"wombat", "interview"}])
    assert corrector.is_known("wombat") and corrector.correct("wombta") == "wombta"
    store.add([{"wombat"}])
    assert corrector.frequency("wombat") == 2 and corrector.frequency("interview") == 51
    assert corrector.correct("wombta") == "wombat"


def test_a_common_english_word_is_offered_from_its_first_post(tmp_path):
    """The forum's own words wait for a second post; words of the shipped list do not."""
    store = SpellingStore(tmp_path / "spelling.sqlite")
    store.write({"appointment": 1, "upwork": 1})
    corrector = store.corrector()
    assert corrector.correct("apointment") == "appointment"
    assert corrector.correct("upwrk") == "upwrk"
    store.add([{"telephone"}, {"upwork"}])
    assert corrector.correct("telefone") == "telephone"
    assert corrector.correct("upwrk") == "upwork"


def test_an_empty_vocabulary_corrects_nothing(tmp_path):
    store = SpellingStore(tmp_path / "spelling.sqlite")
    store.write({})
    assert store.corrector().correct("intervew") == "intervew"
