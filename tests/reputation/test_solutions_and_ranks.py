"""Accepted solutions and the rank ladder: counters exact, ranks recomputed on each event, history kept."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.extensions import db
from forum.models import Member, Post, RankChange, Thread
from forum.search import get_search
from tests.builders import make_member, make_thread
from tests.pages import login, post_form


def member_state(app, member_id):
    with app.app_context():
        member = db.session.get(Member, member_id)
        return member.solution_count, member.rank.name if member.rank else None


def reply_id(app, thread_id, position):
    with app.app_context():
        return db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.position == position)
        )


def test_asker_accepts_a_reply_and_it_shows_under_the_question(
    app, client, member, other_member, board
):
    thread = make_thread(
        app, member, board, subject="Help me", replies=2, reply_author_id=other_member
    )
    login(client, "alice")
    solution = reply_id(app, thread, 3)
    response = post_form(client, f"/t/{thread}/solution", {"post_id": solution})
    assert response.headers["Location"] == f"/t/{thread}-help-me#p3"
    html = client.get(f"/t/{thread}-help-me").get_data(as_text=True)
    summary = re.search(r'<aside class="solution-summary".*?</aside>', html, flags=re.S)[0]
    assert "Re: Help me" in summary and "3 of 3" in summary and "Bob B" in summary
    assert "Solved" in client.get("/b/freelancers").get_data(as_text=True)
    assert member_state(app, other_member)[0] == 1


def test_changing_the_solution_moves_the_counter_exactly(app, client, member, other_member, board):
    carol = make_member(app, "carol")
    thread = make_thread(app, member, board, subject="Q", replies=1, reply_author_id=other_member)
    with app.app_context():
        from forum.threads import services

        services.reply(
            db.session.get(Member, carol), db.session.get(Thread, thread), "carol's answer"
        )
    login(client, "alice")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 3)})
    assert member_state(app, other_member)[0] == 0
    assert member_state(app, carol)[0] == 1
    post_form(client, f"/t/{thread}/solution", {"post_id": ""})
    assert member_state(app, carol)[0] == 0
    with app.app_context():
        assert db.session.get(Thread, thread).solution_post_id is None


def test_a_member_cannot_accept_a_solution_on_someone_elses_thread(
    app, client, member, other_member, board
):
    thread = make_thread(app, member, board, replies=1, reply_author_id=other_member)
    login(client, "bob")
    response = post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Thread, thread).solution_post_id is None


def test_a_moderator_can_accept_a_solution_and_it_is_audited(
    app, client, member, other_member, moderator, board
):
    thread = make_thread(app, member, board, replies=1, reply_author_id=other_member)
    login(client, "maude")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    html = client.get("/moderation/audit").get_data(as_text=True)
    assert "solution.accept" in html and "Maude M" in html


def test_the_opening_post_cannot_be_the_solution(app, client, member, board):
    thread = make_thread(app, member, board, replies=1)
    login(client, "alice")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 1)})
    with app.app_context():
        assert db.session.get(Thread, thread).solution_post_id is None


def test_marking_a_solution_reindexes_the_threads_posts_as_solved(
    app, client, member, other_member, board
):
    thread = make_thread(
        app,
        member,
        board,
        subject="Kettle",
        body="kettle broken",
        replies=1,
        reply_author_id=other_member,
    )
    assert get_search(app).search("kettle is:solved").total == 0
    login(client, "alice")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    assert get_search(app).search("kettle is:solved").total == 1


def test_rank_rises_with_posts_and_history_records_it(app, member, board):
    make_thread(app, member, board, replies=4)  # 5 posts: Frequent Visitor
    assert member_state(app, member)[1] == "Frequent Visitor"
    with app.app_context():
        history = db.session.scalars(
            select(RankChange).where(RankChange.member_id == member).order_by(RankChange.id)
        ).all()
        assert [(h.old_rank, h.new_rank) for h in history][-1] == ("New Member", "Frequent Visitor")


def test_profile_rank_history_reads_as_sentences(app, client, member, board):
    make_thread(app, member, board, replies=4)
    html = client.get("/members/alice").get_data(as_text=True)
    history = re.search(r'<ul class="rank-history">(.*?)</ul>', html, flags=re.S)[1]
    assert "started as New Member" in history
    assert "New Member → Frequent Visitor" in history
    assert "—" not in history


def _set_counts(app, member_id, posts=0, kudos=0, solutions=0):
    from forum.reputation.services import refresh_rank

    with app.app_context():
        member = db.session.get(Member, member_id)
        member.post_count, member.kudos_received, member.solution_count = posts, kudos, solutions
        refresh_rank(db.session, member_id, "test setup")
        db.session.commit()


def test_rank_goes_down_when_kudos_are_taken_back(app, client, member, other_member, board):
    make_thread(app, member, board)
    _set_counts(app, member, posts=20, kudos=4)
    assert member_state(app, member)[1] == "Frequent Visitor"
    login(client, "bob")
    post_form(client, "/p/1/kudos")
    assert member_state(app, member)[1] == "Active Member"
    post_form(client, "/p/1/kudos/take-back")
    assert member_state(app, member)[1] == "Frequent Visitor"
    with app.app_context():
        causes = [
            c.cause
            for c in db.session.scalars(select(RankChange).where(RankChange.member_id == member))
        ]
    assert "kudos received" in causes and "kudos taken back" in causes


def test_rank_goes_down_when_a_solution_is_cleared(app, client, member, other_member, board):
    thread = make_thread(app, member, board, replies=1, reply_author_id=other_member)
    _set_counts(app, other_member, posts=50, kudos=25, solutions=2)
    assert member_state(app, other_member)[1] == "Active Member"
    login(client, "alice")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    assert member_state(app, other_member) == (3, "Ace Contributor")
    post_form(client, f"/t/{thread}/solution", {"post_id": ""})
    assert member_state(app, other_member) == (2, "Active Member")


def test_a_fixed_rank_is_shown_and_not_recomputed(app, client, member, moderator, board):
    login(client, "maude")
    post_form(
        client,
        "/moderation/members/alice/rank",
        {"fixed-rank": 6, "fixed-reason": "long-time helper"},
        prefix="fixed",
    )
    make_thread(app, member, board, replies=6)
    html = client.get("/members/alice").get_data(as_text=True)
    assert '<p class="author-title">Community Guru</p>' in html
    assert "This rank was set by a moderator." in html
    assert "rank.fix" in client.get("/moderation/audit").get_data(as_text=True)


def test_profile_says_what_the_next_rank_needs(app, client, member, board):
    _set_counts(app, member, posts=60, kudos=40, solutions=5)
    html = client.get("/members/alice").get_data(as_text=True)
    assert (
        "Next rank: <strong>Community Leader</strong> — 90 more posts, 60 more kudos, 10 more accepted solutions, 180 more days as a member"
        in html
    )


def test_moderators_edit_the_ladder_and_ranks_are_recomputed(app, client, member, moderator, board):
    make_thread(app, member, board, replies=2)  # 3 posts: New Member
    login(client, "maude")
    with app.app_context():
        visitor = db.session.scalar(select(RankChange.id))  # history exists
        rank_id = db.session.execute(
            db.text("select id from ranks where name = 'Frequent Visitor'")
        ).scalar()
    assert visitor
    response = post_form(
        client,
        f"/moderation/ranks/{rank_id}",
        {"name": "Regular", "min_posts": 3, "min_kudos": 0, "min_solutions": 0, "min_days": 0},
    )
    assert response.headers["Location"] == "/moderation/ranks"
    assert member_state(app, member)[1] == "Regular"
    assert "rank.update" in client.get("/moderation/audit").get_data(as_text=True)


def test_a_member_cannot_edit_the_ladder(app, client, member):
    login(client, "alice")
    response = post_form(client, "/moderation/ranks", {"name": "Boss", "min_posts": 0})
    assert response.status_code == 403
    with app.app_context():
        assert (
            db.session.execute(db.text("select count(*) from ranks where name = 'Boss'")).scalar()
            == 0
        )


def test_rank_names_with_markup_are_shown_literally(app, client, member, moderator, board):
    login(client, "maude")
    post_form(
        client, "/moderation/ranks", {"name": "<script>alert(1)</script> {{7*7}}", "min_posts": 1}
    )
    make_thread(app, member, board)
    html = client.get("/t/1-how-do-i-start").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}" in html
    assert "<script>alert(1)" not in html and " 49" not in html


def test_a_self_accepted_solution_shows_but_earns_nothing(app, client, member, other_member, board):
    thread = make_thread(
        app, member, board, subject="Own answer", replies=1, reply_author_id=other_member
    )
    with app.app_context():
        from forum.threads import services

        services.reply(
            db.session.get(Member, member), db.session.get(Thread, thread), "Found it myself"
        )
    _set_counts(app, member, posts=50, kudos=25, solutions=2)
    assert member_state(app, member) == (2, "Active Member")
    login(client, "alice")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 3)})
    html = client.get(f"/t/{thread}-own-answer").get_data(as_text=True)
    summary = re.search(r'<aside class="solution-summary".*?</aside>', html, flags=re.S)[0]
    assert "3 of 3" in summary and "Alice A" in summary
    assert member_state(app, member) == (2, "Active Member")
    profile = client.get("/members/alice").get_data(as_text=True)
    assert "self-accepted solutions don't count" in profile
    # Moving the solution from the asker's reply to another member's counts only the other's.
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    assert member_state(app, member) == (2, "Active Member")
    assert member_state(app, other_member)[0] == 1
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 3)})
    assert member_state(app, member)[0] == 2 and member_state(app, other_member)[0] == 0


def test_a_moderator_accepting_the_askers_own_reply_counts_nothing(
    app, client, member, moderator, board
):
    thread = make_thread(app, member, board, replies=1, reply_author_id=member)
    login(client, "maude")
    post_form(client, f"/t/{thread}/solution", {"post_id": reply_id(app, thread, 2)})
    with app.app_context():
        assert db.session.get(Thread, thread).solution_post_id == reply_id(app, thread, 2)
    assert member_state(app, member)[0] == 0
