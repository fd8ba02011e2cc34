"""Spam scoring: trained only by moderators' decisions, explained by its words, and a verdict that
can only hold a post for review."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from sqlalchemy import select

from forum import spam
from forum.database import write_transaction
from forum.extensions import db
from forum.models import Post, SpamToken
from tests.builders import make_member, make_thread
from tests.databases import count_queries
from tests.workers import attempt, run_workers

SPAM = [
    "Cheap replica watches, best prices online! Order now at https://cheap-watches.example/buy",
    "Discount watches and bags, free shipping, order today https://cheap-watches.example/deal",
    "Best cheap pills online, no prescription, order now https://pills-now.example/",
    "Make money fast from home, order the guide today https://easy-money.example/guide",
]
HAM = [
    "How do I configure the printer driver on Debian? The manual says nothing about it.",
    "Thanks, the driver update fixed my printer. Marking this as the solution.",
    "Which board should I ask about scanner settings? Mine keeps losing its calibration.",
    "I had the same calibration problem; resetting the scanner from its menu helped.",
]


def teach(app: Flask, times: int = 3) -> None:
    """Moderators decide each example post `times` times (as if that many such posts came in)."""
    with app.app_context(), write_transaction() as session:
        for _ in range(times):
            for text in SPAM:
                spam.record_decision(session, text, is_spam=True)
            for text in HAM:
                spam.record_decision(session, text, is_spam=False)


def verdict(app: Flask, text: str) -> spam.SpamVerdict:
    with app.app_context():
        return spam.score(db.session, text)


def token_rows(app: Flask) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(SpamToken.token, SpamToken.spam_count, SpamToken.ham_count).order_by(
                    SpamToken.token
                )
            )
        ]


def test_tokens_are_words_link_domains_and_a_link_count():
    found = spam.tokens(
        '<p>Visit <a href="https://www.Shop.Cheap-Watches.example/x?y=1">our shop</a> or '
        "http://deals.example:8080/a NOW!</p>"
    )
    assert found[0] == "links:2-3"
    assert {
        "domain:shop.cheap-watches.example",
        "domain:cheap-watches.example",
        "domain:deals.example",
    } <= set(found)
    assert {"visit", "our", "shop", "now"} <= set(found)
    assert "or" not in found  # shorter than three letters
    assert len(found) == len(set(found))


def test_a_bare_link_rendered_as_its_own_text_counts_once():
    url = "https://deals.example/a"
    assert spam.tokens(f'<p><a href="{url}">{url}</a></p>')[0] == "links:1"
    assert spam.tokens("no links at all")[0] == "links:0"


def test_a_link_to_a_host_without_a_domain_counts_as_a_link_but_names_no_domain():
    found = spam.tokens("see http://localhost:8080/admin and http://[::1]/")
    assert found[0] == "links:2-3"
    assert not [token for token in found if token.startswith("domain:")]


def test_a_linked_e_mail_address_is_no_link():
    """The renderer links addresses, and most Usenet-style signatures carry one."""
    found = spam.tokens('<p>Write to <a href="mailto:me@shop.example">me@shop.example</a></p>')
    assert found[0] == "links:0"
    assert not [token for token in found if token.startswith("domain:")]


def test_a_verdict_holds_only_when_trained_and_over_its_threshold():
    assert spam.SpamVerdict(0.95, 0.9).holds
    assert not spam.SpamVerdict(0.9, 0.9).holds  # "above a threshold"
    assert not spam.SpamVerdict(0.95, 0.96).holds
    assert not spam.SpamVerdict(None, 0.0).holds


def test_an_untrained_forum_holds_nothing(app):
    app.config["SPAM_MIN_DECISIONS"] = 13  # the examples give 12 of each
    teach(app)
    result = verdict(app, SPAM[0])
    assert not result.trained and not result.holds
    assert (result.spam_decisions, result.ham_decisions, result.decisions_needed) == (12, 12, 13)
    app.config["SPAM_MIN_DECISIONS"] = 12
    assert verdict(app, SPAM[0]).holds


def test_a_post_of_words_never_decided_scores_an_even_half_and_is_not_held(app):
    app.config["SPAM_MIN_DECISIONS"] = 1
    app.config["SPAM_HOLD_THRESHOLD"] = 0.5
    with app.app_context(), write_transaction() as session:
        spam.learn(session, "cheap watches", is_spam=True)
        spam.learn(session, "printer driver", is_spam=False)
    result = verdict(app, "zanzibar quokka")  # links:0 is as common in both: it tells nothing
    assert (result.probability, result.reasons, result.holds) == (0.5, [], False)


def test_moderators_decisions_move_the_scores(app):
    app.config["SPAM_MIN_DECISIONS"] = 4
    teach(app, times=1)
    spammy = "Cheap watches, order now https://cheap-watches.example/new"
    honest = "My printer driver lost its calibration again"
    first_spam, first_ham = verdict(app, spammy).probability, verdict(app, honest).probability
    assert first_spam > 0.5 > first_ham
    teach(app, times=5)
    assert verdict(app, spammy).probability > first_spam
    assert verdict(app, honest).probability < first_ham
    assert verdict(app, spammy).holds and not verdict(app, honest).holds


def test_the_explanation_lists_the_words_that_drove_the_score(app):
    app.config["SPAM_MIN_DECISIONS"] = 4
    teach(app)
    result = verdict(app, "Cheap watches for the printer, order now https://cheap-watches.example/")
    words = [token for token, _ in result.reasons]
    assert {"cheap", "watches", "order", "domain:cheap-watches.example"} <= set(words)
    assert "printer" not in words  # a word that leans to not-spam is no reason for spam
    probabilities = [p for _, p in result.reasons]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(p > 0.5 for p in probabilities)


def test_a_link_domain_taught_as_spam_raises_the_score_of_a_post_linking_it(app):
    app.config["SPAM_MIN_DECISIONS"] = 3
    with app.app_context(), write_transaction() as session:
        for n in range(3):
            spam.learn(
                session, f"Question {n} about the printer https://bad-domain.example/{n}", True
            )
            spam.learn(session, f"Question {n} about the printer https://docs.example/{n}", False)
    bad = verdict(app, "A question about the printer https://bad-domain.example/x")
    good = verdict(app, "A question about the printer https://docs.example/x")
    assert bad.probability > 0.9 > 0.1 > good.probability
    assert [token for token, _ in bad.reasons] == ["domain:bad-domain.example"]


def test_unlearn_reverses_learn_exactly(app):
    teach(app, times=1)
    before = token_rows(app)
    text = "Cheap watches again, and a new word: zanzibar https://new-shop.example/"
    with app.app_context(), write_transaction() as session:
        spam.learn(session, text, is_spam=True)
    assert token_rows(app) != before
    with app.app_context(), write_transaction() as session:
        spam.unlearn(session, text, is_spam=True)
    assert token_rows(app) == before


def test_a_moderator_changing_their_mind_counts_only_the_last_decision(app):
    text = "Selling my old scanner, barely used"
    with app.app_context(), write_transaction() as session:
        spam.record_decision(session, text, is_spam=True)
        spam.record_decision(session, text, is_spam=False, previous=True)
        spam.record_decision(session, text, is_spam=False, previous=False)  # the same: no change
    changed_mind = token_rows(app)
    with app.app_context(), write_transaction() as session:
        spam.unlearn(session, text, is_spam=False)
        spam.learn(session, text, is_spam=False)
    assert token_rows(app) == changed_mind
    assert ("#messages", 0, 1) in changed_mind
    assert all(spam_count == 0 for _, spam_count, _ in changed_mind)


def test_unlearning_what_was_never_learnt_leaves_the_counts_alone(app):
    teach(app, times=1)
    before = token_rows(app)
    with app.app_context(), write_transaction() as session:
        spam.unlearn(session, "printer zanzibar", is_spam=True)
    after = dict((token, (s, h)) for token, s, h in token_rows(app))
    assert after["printer"] == dict((t, (s, h)) for t, s, h in before)["printer"]
    assert "zanzibar" not in after
    assert after["#messages"] == (3, 4)  # one spam decision fewer, as asked: a misuse, not negative


def learn_job(report: dict, texts: list[str], is_spam: bool) -> None:
    """A moderator deciding each text in its own transaction (run in a worker process)."""

    def decide(text: str) -> None:
        with write_transaction() as session:
            spam.record_decision(session, text, is_spam)

    for text in texts:
        attempt(report, decide, text)


def test_moderators_deciding_at_the_same_moment_lose_no_count(app, tmp_path):
    """Four processes learn overlapping tokens at once: every upsert adds, none deadlocks."""
    texts = [f"cheap watches order now item{n} https://shop{n % 3}.example/" for n in range(12)]
    run_workers(app, tmp_path, [(learn_job, (texts, worker % 2 == 0)) for worker in range(4)])
    counts = {token: (s, h) for token, s, h in token_rows(app)}
    assert counts["#messages"] == counts["cheap"] == counts["links:1"] == (24, 24)
    assert counts["item7"] == (2, 2)
    assert counts["domain:shop0.example"] == (8, 8)


def test_scoring_reads_only_its_tokens_rows_in_one_query(app):
    app.config["SPAM_MIN_DECISIONS"] = 4
    teach(app)
    with count_queries(app) as statements:
        result = verdict(app, SPAM[1])
    assert result.trained
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("SELECT")
    assert "spam_tokens" in statements[0] and " IN " in statements[0].upper()


def test_a_post_over_the_threshold_is_only_held_never_removed(app, board):
    """The verdict's one outcome is `holds`: scoring writes nothing and the post stays as it was
    (posted before the training; a post submitted after it is held: test_spam_holds.py)."""
    app.config["SPAM_MIN_DECISIONS"] = 4
    thread_id = make_thread(app, make_member(app, "spammer"), board, "Cheap watches", SPAM[0])
    teach(app, times=5)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.thread_id == thread_id))
        html_before = post.body_html
    with count_queries(app) as statements, app.app_context():
        result = spam.score(db.session, html_before)
    assert result.probability > 0.99 and result.holds
    assert [s.lstrip().split()[0].upper() for s in statements] == ["SELECT"]
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.thread_id == thread_id))
        assert not post.is_removed and post.body_html == html_before


@pytest.mark.parametrize("trained", [True, False])
def test_the_queue_snippet_shows_the_score_and_its_words(app, trained):
    app.config["SPAM_MIN_DECISIONS"] = 4 if trained else 50
    teach(app)
    result = verdict(app, SPAM[0])
    template = '{% from "moderation/_spam_score.html" import spam_score %}{{ spam_score(v) }}'
    with app.test_request_context():
        page = render_template_string(template, v=result)
    if trained:
        assert f"Spam score {result.probability * 100:.0f}%" in page
        assert f"over the {result.threshold * 100:.0f}% that holds" in page
        assert "<code>domain:cheap-watches.example</code>" in page
    else:
        assert "not enough training yet" in page
        assert "12 posts as spam and 12 as not spam; scoring starts at 50 of each" in page
