"""The PostgreSQL full-text backend (FORUM_SEARCH_BACKEND=postgresql): the index is a table.

Each searchable post is a row of `search_documents` whose generated `tsv` column weighs the
subject A, the body B and the author's name C (English stemming, a GIN index). The hooks' flush
calls `index_in_transaction`, which rewrites the changed posts' rows in that same transaction,
so a post is searchable the moment it commits and a rollback takes its row away: nothing to
drain, no outbox. `search_words` holds the unstemmed vocabulary (the same words the Whoosh
backend learns) with the number of posts having each, for spelling corrections.

Queries are built from the parsed query's terms as bound parameters, each term through
plainto_tsquery (a word) or phraseto_tsquery (a phrase): no member text is ever part of the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from datetime import time as clock

from markupsafe import Markup
from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Computed,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    event,
    exists,
    func,
    literal_column,
    not_,
    select,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, distinct_on, insert
from sqlalchemy.orm import Session

from forum.database import WRITE_OPTION
from forum.models import Post, Thread
from forum.search.backend import (
    Changes,
    CheckReport,
    DrainResult,
    Hit,
    HitPage,
    Progress,
    plain_snippet,
)
from forum.search.documents import PostDocument, differences, iter_documents, load_documents
from forum.search.index import spelling_words
from forum.search.query import ParsedQuery, QueryTerm
from forum.search.spelling import SpellingCorrector

ENGLISH = literal_column("'english'::regconfig")
SUBJECT_AND_BODY = literal_column("""'{a,b}'::"char"[]""")  # ts_filter's weights A and B
BATCH = 500  # documents a rebuild writes per transaction
# ts_headline's markers: control characters, which HTML-escaped text never holds (they are
# stripped from it first), so only the engine's own markers become <mark>.
START, STOP = "\x01", "\x02"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20, MaxFragments=1"
# ts_rank's normalisation 1 divides by 1 + log(document length), so a long post that mentions a
# word once does not outrank a short one about it (ts_rank_cd was not measured here).
RANK_NORMALISATION = 1

metadata = MetaData()  # not the models' metadata: these tables exist on PostgreSQL only
documents = Table(
    "search_documents",
    metadata,
    Column("post_id", Integer, primary_key=True, autoincrement=False),
    Column("thread_id", Integer, nullable=False),
    Column("board", String(80), nullable=False),
    Column("board_name", String(200), nullable=False),
    Column("author", String(80), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("solved", Boolean, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("digest", String(32), nullable=False),
    Column("words", ARRAY(Text), nullable=False),
    Column("tsv", TSVECTOR, Computed("generated in the migration"), nullable=False),
)
words = Table(
    "search_words",
    metadata,
    Column("word", Text, primary_key=True),
    Column("posts", Integer, nullable=False),
)
PENDING = "postgres_search_followers"  # session.info: posts to write again before the commit
TABLES = frozenset(metadata.tables)  # migrations/env.py leaves them out of `db check`


def _escaped(column):
    """The column as HTML-escaped text (as markupsafe escapes), without the marker characters."""
    text = func.translate(column, START + STOP, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;")):
        text = func.replace(text, char, entity)
    return func.replace(text, "'", "&#39;")


def _either(queries: list, operator: str):
    combined = queries[0]
    for query in queries[1:]:
        combined = combined.op(operator, return_type=TSQUERY)(query)
    return combined


class PostgresSearch:
    """A SearchBackend whose index lives in the forum's own PostgreSQL database."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory
        self._speller: tuple[tuple[int, int], SpellingCorrector] | None = None

    # following the database ----------------------------------------------------------------

    def available(self) -> bool:
        """Built, or nothing to build: an empty table beside existing posts has never been
        rebuilt (the backend was just switched on), so the database fallback answers."""
        with self.session_factory() as session:
            return bool(
                session.scalar(select(exists(select(documents.c.post_id))))
                or not session.scalar(select(exists(select(Post.id))))
            )

    def index_in_transaction(self, session: Session, changes: Changes) -> None:
        """Rewrite the changed posts' documents now, in the flush's transaction. Posts reached
        through a thread, member or board are written again just before the commit, still inside
        it: a service's bulk UPDATE after the flush (a renamed thread's reply subjects) is then
        in what they read."""
        ids = set(changes.posts)
        followers: set[int] = set()
        for column, wanted in (
            (Post.thread_id, changes.threads),
            (Post.author_id, changes.members),
        ):
            if wanted:
                followers.update(session.scalars(select(Post.id).where(column.in_(wanted))))
        if changes.boards:
            followers.update(
                session.scalars(
                    select(Post.id).join(Post.thread).where(Thread.board_id.in_(changes.boards))
                )
            )
        if ids | followers:
            self._store(session, load_documents(session, ids | followers))
        if followers:
            if PENDING not in session.info:
                event.listen(session, "before_commit", self._write_pending, once=True)
            session.info.setdefault(PENDING, set()).update(followers)

    def _write_pending(self, session: Session) -> None:
        """Flush what is left, then write the followers' documents again. A flush inside the
        commit comes after this (nothing can run after it), and a rollback leaves the ids for
        the next commit, which rewrites their current documents: at worst a little extra work."""
        session.flush()
        ids = session.info.pop(PENDING, set())
        if ids:
            self._store(session, load_documents(session, ids))

    def _store(self, session: Session, found: Mapping[int, PostDocument | None]) -> None:
        """Upsert the documents, delete the posts whose document is None, and move the word
        counts by what each post's words were and are (locked in word order, so concurrent
        writers never deadlock on them)."""
        connection = session.connection()
        ids = sorted(found)
        old = dict(
            connection.execute(
                select(documents.c.post_id, documents.c.words)
                .where(documents.c.post_id.in_(ids))
                .with_for_update()
            ).all()
        )
        delta: dict[str, int] = {}
        for post_id in ids:
            for word in old.get(post_id, ()):
                delta[word] = delta.get(word, 0) - 1
        rows = []
        for post_id in ids:
            doc = found[post_id]
            if doc is None:
                continue
            learned = sorted(spelling_words(doc))
            for word in learned:
                delta[word] = delta.get(word, 0) + 1
            rows.append(
                {
                    "post_id": doc.post_id,
                    "thread_id": doc.thread_id,
                    "board": doc.board,
                    "board_name": doc.board_name,
                    "author": doc.author,
                    "author_name": doc.author_name,
                    "posted_at": doc.posted_at,
                    "position": doc.position,
                    "solved": doc.solved,
                    "subject": doc.subject,
                    "body": doc.body,
                    "digest": doc.digest,
                    "words": learned,
                }
            )
        gone = [post_id for post_id in ids if found[post_id] is None]
        if gone:
            connection.execute(delete(documents).where(documents.c.post_id.in_(gone)))
        if rows:
            statement = insert(documents)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[documents.c.post_id],
                    set_={name: statement.excluded[name] for name in rows[0] if name != "post_id"},
                ),
                rows,
            )
        moved = [{"word": w, "posts": n} for w, n in sorted(delta.items()) if n]
        if moved:
            statement = insert(words)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[words.c.word],
                    set_={"posts": words.c.posts + statement.excluded.posts},
                ),
                moved,
            )
            connection.execute(delete(words).where(words.c.posts <= 0))

    def drain(self, lock_timeout: float | None = None, max_rows: int | None = None) -> DrainResult:
        """Nothing waits: every change was indexed in its own transaction."""
        return DrainResult()

    def pending(self) -> int:
        return 0

    def behind(self) -> bool:
        return False

    def rebuild(self, progress: Progress = lambda n: None) -> int:
        """Rewrite every searchable post's document, a batch per transaction (search keeps
        answering from the rows already there), drop the rows of posts no longer searchable,
        then recount the vocabulary from the documents."""
        counted = 0
        with self.session_factory() as reading:
            batch: list[PostDocument] = []
            for doc in iter_documents(reading, batch_size=BATCH):
                batch.append(doc)
                if len(batch) == BATCH:
                    self._write_batch(batch)
                    counted += len(batch)
                    progress(len(batch))
                    batch = []
            if batch:
                self._write_batch(batch)
                counted += len(batch)
                progress(len(batch))
        with self.session_factory() as session:
            indexed = self._digests(session)
            _, _, stray = differences(session, indexed, lambda n: None)
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            if stray:
                self._store(session, dict.fromkeys(stray))
            session.commit()
        self._recount_words()
        return counted

    def _write_batch(self, batch: Iterable[PostDocument]) -> None:
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            self._store(session, {doc.post_id: doc for doc in batch})
            session.commit()

    def _recount_words(self) -> None:
        """The vocabulary counted afresh from the documents (locked meanwhile, so no flush's
        increment is lost between the delete and the insert)."""
        with self.session_factory() as session:
            connection = session.connection(execution_options={WRITE_OPTION: True})
            connection.exec_driver_sql("LOCK TABLE search_words IN EXCLUSIVE MODE")
            connection.execute(delete(words))
            word = func.unnest(documents.c.words).label("word")
            counted = select(word, func.count().label("posts")).group_by(literal_column("word"))
            connection.execute(words.insert().from_select(["word", "posts"], counted))
            session.commit()

    def _digests(self, session: Session) -> dict[int, str]:
        return dict(session.execute(select(documents.c.post_id, documents.c.digest)).all())

    def check(
        self, repair: bool = False, deep: bool = False, progress: Progress = lambda n: None
    ) -> CheckReport:
        """Missing, stale and stray documents (there are no files to read deeply); repair
        rewrites them in one transaction."""
        report = CheckReport()
        with self.session_factory() as session:
            report.missing, report.stale, report.stray = differences(
                session, self._digests(session), progress
            )
        wrong = report.missing + report.stale + report.stray
        if repair and wrong:
            with self.session_factory() as session:
                session.connection(execution_options={WRITE_OPTION: True})
                self._store(session, load_documents(session, wrong))
                session.commit()
        return report

    # spelling ------------------------------------------------------------------------------

    def speller(self) -> SpellingCorrector:
        """The corrector over `search_words`, kept per process until the vocabulary's size or
        total changes (a new post with no new word and an edit that swaps one word for another
        of the same count leave it as it was, a known limitation)."""
        with self.session_factory() as session:
            size, total = session.execute(
                select(func.count(), func.coalesce(func.sum(words.c.posts), 0))
            ).one()
            if self._speller is None or self._speller[0] != (size, total):
                counts = dict(session.execute(select(words.c.word, words.c.posts)).all())
                self._speller = ((size, total), SpellingCorrector.from_counts(counts))
        return self._speller[1]

    def matches_stem(self, word: str) -> bool:
        """Whether the word's English stems occur in any post's subject or body."""
        query = func.plainto_tsquery(ENGLISH, bindparam("word", word), type_=TSQUERY)
        with self.session_factory() as session:
            return bool(
                session.scalar(
                    select(
                        and_(
                            func.numnode(query) > 0,
                            exists(
                                select(documents.c.post_id).where(
                                    func.ts_filter(documents.c.tsv, SUBJECT_AND_BODY).op("@@")(
                                        query
                                    )
                                )
                            ),
                        )
                    )
                )
            )

    # searching -----------------------------------------------------------------------------

    def search(
        self,
        query: ParsedQuery,
        page: int,
        per_page: int,
        by_date: bool = False,
        any_word: bool = False,
    ) -> HitPage | None:
        """One page of threads, each by its best-ranked post (its newest, by_date), with escaped
        snippets; None when the query is only stop words."""
        with self.session_factory() as session:
            terms = [term for clause in query.clauses for term in clause] + list(query.excluded)
            searchable = self._searchable_terms(session, terms)
            match = self._match(query, searchable, any_word)
            if match is None and not query.has_filters:
                return None
            return self._search(session, query, match, searchable, page, per_page, by_date)

    @staticmethod
    def _tsquery(term: QueryTerm):
        to_query = func.phraseto_tsquery if term.phrase else func.plainto_tsquery
        return to_query(ENGLISH, bindparam(None, term.text, type_=Text), type_=TSQUERY)

    def _searchable_terms(self, session: Session, terms: list[QueryTerm]) -> set[QueryTerm]:
        """The terms that are more than stop words (one query for them all)."""
        if not terms:
            return set()
        counts = session.execute(select(*(func.numnode(self._tsquery(t)) for t in terms))).one()
        return {term for term, nodes in zip(terms, counts, strict=True) if nodes}

    def _match(self, query: ParsedQuery, searchable: set[QueryTerm], any_word: bool):
        """Every clause (any word clause, with any_word; phrases always), each clause any of
        its alternatives; None when no term is searchable."""
        required, word_clauses = [], []
        for clause in query.clauses:
            alternatives = [self._tsquery(t) for t in clause if t in searchable]
            if alternatives:
                either = _either(alternatives, "||")
                if all(term.phrase for term in clause):
                    required.append(either)
                else:
                    word_clauses.append(either)
        if word_clauses:
            required.append(_either(word_clauses, "||" if any_word else "&&"))
        return _either(required, "&&") if required else None

    def _search(
        self,
        session: Session,
        query: ParsedQuery,
        match,
        searchable: set[QueryTerm],
        page: int,
        per_page: int,
        by_date: bool,
    ) -> HitPage:
        d = documents.c
        conditions = []
        if match is not None:
            conditions.append(d.tsv.op("@@")(match))
        if query.author:
            conditions.append(d.author == query.author)
        if query.board:
            conditions.append(d.board == query.board)
        if query.solved:
            conditions.append(d.solved.is_(True))
        if query.after:
            conditions.append(d.posted_at >= datetime.combine(query.after, clock.min, UTC))
        if query.before:
            conditions.append(d.posted_at <= datetime.combine(query.before, clock.max, UTC))
        excluded = [self._tsquery(t) for t in query.excluded if t in searchable]
        if excluded:
            # the subject and body only: leaving out "john" means the word, not John's posts
            left_out = select(d.thread_id).where(
                func.ts_filter(d.tsv, SUBJECT_AND_BODY).op("@@")(_either(excluded, "||"))
            )
            conditions.append(not_(d.thread_id.in_(left_out)))
        rank = (
            func.ts_rank(d.tsv, match, RANK_NORMALISATION)
            if match is not None
            else literal_column("0.0")
        ).label("rank")
        order = (d.posted_at.desc(), d.post_id.desc()) if by_date else (rank.desc(),)
        best = (
            select(d.post_id, d.thread_id, d.posted_at, rank)
            .where(*conditions)
            .ext(distinct_on(d.thread_id))
            .order_by(d.thread_id, *order, d.post_id.desc())
            .subquery()
        )
        total = session.scalar(select(func.count()).select_from(best))
        order = (
            (best.c.posted_at.desc(), best.c.post_id.desc())
            if by_date
            else (best.c.rank.desc(), best.c.post_id.desc())
        )
        shown = (
            select(best.c.post_id, best.c.rank)
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .subquery()
        )
        columns = [documents, shown.c.rank]
        if match is not None:
            for name in ("body", "subject"):
                columns.append(
                    func.ts_headline(
                        ENGLISH, _escaped(d[name]), match, HEADLINE_OPTIONS, type_=Text
                    ).label(f"{name}_headline")
                )
        rows = session.execute(
            select(*columns)
            .join(shown, shown.c.post_id == d.post_id)
            .order_by(
                *(
                    (d.posted_at.desc(), d.post_id.desc())
                    if by_date
                    else (shown.c.rank.desc(), d.post_id.desc())
                )
            )
        ).all()
        return HitPage(hits=[_hit(row._mapping) for row in rows], total_threads=total)


def _hit(row) -> Hit:
    """A row as a Hit: the body's highlighted passage, else the subject's, else the body's
    start; markers become <mark> only after the text was escaped."""
    snippet = None
    for name in ("body_headline", "subject_headline"):
        headline = row.get(name)
        if headline and START in headline:
            snippet = headline.replace(START, "<mark>").replace(STOP, "</mark>")
            break
    if snippet is None:
        body = row["body"]
        snippet = plain_snippet(body)
    return Hit(
        post_id=row["post_id"],
        thread_id=row["thread_id"],
        position=row["position"],
        subject=row["subject"],
        board=row["board"],
        board_name=row["board_name"],
        author=row["author"],
        author_name=row["author_name"],
        posted_at=row["posted_at"].astimezone(UTC),
        solved=row["solved"],
        score=float(row["rank"]),
        snippet=Markup(snippet),
    )
