"""The lexical index: BM25 over each paper's title and abstract, on disk, updated in place.

Owner of the lexical half of hybrid search, and the only module that imports `tantivy` (a
maintained search engine library; its BM25 is Okapi with Lucene's idf, k1 = 1.2, b = 0.75).
Terms come from `store.tokens.tokenize` (the one tokenizer: Snowball stems, stop words
dropped, numbers such as `12.5%` or `3.4x` and names such as `LASP-2` kept whole); the index
stores them pre-tokenized, space-joined, and splits them on white space only, so what the
index holds is exactly what the shared tokenizer produced.

One document per paper: its id, content hash, terms, the filter columns (`published` as
yyyymmdd, `upvotes`, `has_code`) and `written` (when the paper's record was last written, for
catching up with a shared Chroma server, see `store.chroma`). `upsert` is one commit per batch:
durable when it returns, all or nothing if the process dies, and keyed by id so a repeat writes
the same state. Several processes may share one index: writers take tantivy's writer lock in
turn (waiting up to `WRITER_WAIT` seconds), readers reload when the index's meta file changes,
which costs one `stat` per search.

Why tantivy and not SQLite FTS5 (same data, bench/bench_store.py --lexical): top-50 BM25 over
10k synthetic abstracts took 0.2 ms in tantivy against 76 ms in FTS5, whose `bm25()` ranks
every matching row (FTS5 has no top-k pruning), and the index is a tenth of the size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy

from store.errors import StoreError
from store.models import Paper, date_key
from store.tokens import tokenize

# Okapi BM25 constants of tantivy's scorer (fixed by the library).
K1 = 1.2
B = 0.75
# Seconds a writer waits for another process's writer to finish before giving up.
WRITER_WAIT = 60.0
_WRITER_HEAP = 50_000_000


@dataclass(frozen=True)
class Filters:
    """The search filters (None: not filtering on that field)."""

    since: date | None = None
    until: date | None = None
    min_upvotes: int | None = None
    has_code: bool | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.min_upvotes, self.has_code))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("content_hash", stored=True, tokenizer_name="raw")
    builder.add_text_field("terms", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_integer_field("published", indexed=True, fast=True)  # yyyymmdd, 0 unknown
    builder.add_integer_field("upvotes", indexed=True, fast=True)  # -1 unknown
    builder.add_integer_field("has_code", indexed=True, fast=True)  # 0 / 1
    builder.add_integer_field("written", stored=True, indexed=True, fast=True)
    return builder.build()


class LexicalIndex:
    """BM25 over papers' terms, with the search filters, in one tantivy index directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        try:
            self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StoreError(f"cannot open the lexical index at {self.path}: {exc}") from exc
        self._meta = self.path / "meta.json"
        self._seen = self.version()
        self._searcher = self._index.searcher()

    # ------------------------------------------------------------------ change detection

    def version(self) -> tuple[int, int]:
        """Changes whenever any process commits to the index (the meta file's mtime and size)."""
        try:
            stat = self._meta.stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def refresh(self) -> bool:
        """Reload if another process (or this one) committed since the last look; True if so."""
        current = self.version()
        if current == self._seen:
            return False
        self._index.reload()
        self._searcher = self._index.searcher()
        self._seen = current
        return True

    # ------------------------------------------------------------------ writes

    def upsert(self, papers: Sequence[Paper], written: int | Sequence[int]) -> None:
        """Insert or replace papers by id in one commit (durable when this returns); `written`
        is the stamp of every paper's record, or one stamp per paper."""
        if not papers:
            return
        stamps = [written] * len(papers) if isinstance(written, int) else list(written)
        writer = self._writer()
        try:
            for paper, stamp in zip(papers, stamps, strict=True):
                writer.delete_documents_by_term("id", paper.id)
                writer.add_document(self._document(paper, stamp))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # also releases the writer lock
        self.refresh()

    def _document(self, paper: Paper, written: int) -> tantivy.Document:
        return tantivy.Document(
            id=paper.id,
            content_hash=paper.content_hash,
            terms=" ".join(tokenize(f"{paper.title} {paper.abstract}")),
            published=date_key(paper.published) if paper.published else 0,
            upvotes=paper.upvotes if paper.upvotes is not None else -1,
            has_code=int(paper.has_code),
            written=written,
        )

    def _writer(self) -> tantivy.IndexWriter:
        """Tantivy's writer, waiting while another process holds its lock."""
        deadline = time.monotonic() + WRITER_WAIT
        delay = 0.01
        while True:
            try:
                return self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
            except ValueError as exc:
                if "lock" not in str(exc).casefold() or time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot write the lexical index at {self.path}: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        return int(self._searcher.num_docs)

    def hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> content hash, for the ids that are indexed."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            query = tantivy.Query.term_set_query(self._schema, "id", chunk)
            result = self._searcher.search(query, len(chunk), count=False)
            for _, address in result.hits:
                doc = self._searcher.doc(address)
                found[doc["id"][0]] = doc["content_hash"][0]
        return found

    def latest_written(self) -> int:
        """The newest `written` stamp indexed (0 when empty)."""
        if self.count() == 0:
            return 0
        result = self._searcher.search(
            tantivy.Query.all_query(), 1, count=False, order_by_field="written"
        )
        return int(result.hits[0][0]) if result.hits else 0

    def _filter_query(self, filters: Filters) -> tantivy.Query | None:
        integer = tantivy.FieldType.Integer
        clauses: list[tantivy.Query] = []
        if filters.since is not None:
            clauses.append(
                tantivy.Query.range_query(
                    self._schema, "published", integer, lower_bound=date_key(filters.since)
                )
            )
        if filters.until is not None:
            clauses.append(
                tantivy.Query.range_query(
                    self._schema, "published", integer, 1, date_key(filters.until)
                )
            )
        if filters.min_upvotes is not None:
            clauses.append(
                tantivy.Query.range_query(
                    self._schema, "upvotes", integer, lower_bound=max(filters.min_upvotes, 0)
                )
            )
        if filters.has_code is not None:
            clauses.append(
                tantivy.Query.term_query(self._schema, "has_code", int(filters.has_code))
            )
        if not clauses:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])

    def matching_ids(self, filters: Filters, limit: int) -> list[str] | None:
        """Ids of the papers passing `filters` when there are at most `limit` of them, else
        None (the caller then filters another way)."""
        query = self._filter_query(filters)
        if query is None:
            return None
        result = self._searcher.search(query, limit + 1, count=False)
        if len(result.hits) > limit:
            return None
        return [self._searcher.doc(address)["id"][0] for _, address in result.hits]

    def count_matching(self, filters: Filters) -> int:
        """How many papers pass `filters`."""
        query = self._filter_query(filters)
        if query is None:
            return self.count()
        result = self._searcher.search(query, 1, count=True)
        return int(result.count)  # type: ignore[attr-defined]  # missing from tantivy's stub

    def passing(self, ids: Sequence[str], filters: Filters) -> set[str]:
        """The ids among `ids` whose papers pass `filters`."""
        query = self._filter_query(filters)
        if query is None or not ids:
            return set(ids)
        among = tantivy.Query.term_set_query(self._schema, "id", list(ids))
        both = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, among), (tantivy.Occur.Must, query)]
        )
        result = self._searcher.search(both, len(ids), count=False)
        return {str(self._searcher.doc(address)["id"][0]) for _, address in result.hits}

    def _terms_query(self, terms: Sequence[str]) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "terms", term))
                for term in terms
            ]
        )

    def top(self, query: str, n: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The n best (id, BM25 score) for `query` among papers passing `filters`.

        Only papers that share at least one term with the query are returned; ties are broken
        by id so results are stable.
        """
        terms = sorted(set(tokenize(query)))
        if not terms or n <= 0:
            return []
        search: tantivy.Query = self._terms_query(terms)
        restriction = self._filter_query(filters) if filters else None
        if restriction is not None:
            # The filter must match and adds no score: BM25 alone ranks.
            search = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, search),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(restriction, 0.0)),
                ]
            )
        result = self._searcher.search(search, n, count=False)
        hits = [
            (str(self._searcher.doc(address)["id"][0]), float(score))
            for score, address in result.hits
        ]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))

    def idf(self, term: str) -> float:
        """Lucene's idf of `term`, as tantivy's BM25 computes it (0 when the term is absent)."""
        df = int(self._searcher.doc_freq("terms", term))
        if df == 0:
            return 0.0
        n = max(self.count(), 1)
        return math.log1p((n - df + 0.5) / (df + 0.5))

    def coverage(self, query: str, doc_id: str) -> float:
        """The share of the query's idf mass that one paper contains: 1 when it holds every
        query term, near 0 when it shares only common words. A query term no paper holds
        counts at the highest idf (nothing could match it)."""
        terms = set(tokenize(query))
        if not terms:
            return 0.0
        n = max(self.count(), 1)
        ceiling = math.log1p((n + 0.5) / 0.5)
        paper = tantivy.Query.term_query(self._schema, "id", doc_id)
        total = held = 0.0
        for term in terms:
            weight = self.idf(term) or ceiling
            total += weight
            both = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, paper),
                    (tantivy.Occur.Must, tantivy.Query.term_query(self._schema, "terms", term)),
                ]
            )
            if self._searcher.search(both, 1, count=False).hits:
                held += weight
        return held / total

    def max_score(self, query: str) -> float:
        """The most BM25 score any document could get for `query`: the sum over its indexed
        terms of idf * (k1 + 1), the limit of a term's weight as its frequency grows."""
        return sum(self.idf(term) for term in set(tokenize(query))) * (K1 + 1.0)
