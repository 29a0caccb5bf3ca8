"""The lexical index: BM25 over each paper's title and abstract, on disk, updated in place.

Owner of the lexical half of hybrid search, and the only module that imports `tantivy` (a
maintained search engine library; its BM25 is Okapi with Lucene's idf, k1 = 1.2, b = 0.75).
Terms come from `store.tokens.tokenize` (the one tokenizer: Snowball stems, stop words
dropped, numbers such as `12.5%` or `3.4x` and names such as `LASP-2` kept whole); the index
stores them pre-tokenized, space-joined, and splits them on white space only, so what the
index holds is exactly what the shared tokenizer produced.

One document per paper: its id, content hash, terms, the filter columns (`published` as
yyyymmdd, `upvotes`, `has_code`), `written` (when the paper's record was last written, for
catching up with a shared Chroma server, see `store.chroma`), its vector (float32 bytes) and
`indexed` (when this document was written, always after the paper's Chroma write). The last two
let a process whose embedded Chroma client predates another process's writes search those
papers exactly (`recent`) until it has reopened Chroma. `upsert` is one commit per batch:
durable when it returns, all or nothing if the process dies, and keyed by id so a repeat writes
the same state. Several processes may share one index: writers take tantivy's writer lock in
turn (waiting up to `WRITER_WAIT` seconds), readers reload when the index's meta file changes
(its bytes are compared: every commit raises tantivy's opstamp in it, so two commits within
one tick of the file system's clock still differ), which costs one small read per search.

An index written by an earlier version of this schema is removed when opened (it only mirrors
the papers in Chroma) and `PaperStore` rebuilds it from Chroma.

Why tantivy and not SQLite FTS5 (same data, bench/bench_store.py --lexical): top-50 BM25 over
10k synthetic abstracts took 0.2 ms in tantivy against 76 ms in FTS5, whose `bm25()` ranks
every matching row (FTS5 has no top-k pruning), and the index is a tenth of the size.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
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

log = logging.getLogger(__name__)


def now_us() -> int:
    """A stamp: microseconds since the epoch."""
    return time.time_ns() // 1000


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
    builder.add_integer_field("indexed", stored=True, indexed=True, fast=True)
    builder.add_bytes_field("vector", stored=True)  # float32, native byte order
    return builder.build()


@dataclass(frozen=True)
class Recent:
    """Papers indexed since a stamp, with their vectors (one row each)."""

    ids: list[str]
    vectors: np.ndarray
    row: dict[str, int]

    @classmethod
    def empty(cls, dim: int) -> Recent:
        return cls([], np.zeros((0, dim), dtype=np.float32), {})

    def __len__(self) -> int:
        return len(self.ids)


class LexicalIndex:
    """BM25 over papers' terms, with the search filters, in one tantivy index directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        self._index = self._open()
        self._meta = self.path / "meta.json"
        self._seen = self.version()
        self._searcher = self._index.searcher()
        self.generation = 0  # raised at every reload

    def _open(self) -> tantivy.Index:
        try:
            return tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise StoreError(f"cannot open the lexical index at {self.path}: {exc}") from exc
        # An older format: set it aside (another process may be doing the same) and start
        # empty; the store re-indexes its papers from Chroma.
        aside = self.path.with_name(f"{self.path.name}.old-{uuid.uuid4().hex[:8]}")
        try:
            self.path.rename(aside)
        except FileNotFoundError:
            pass
        else:
            log.warning("lexical index at %s had an older format; rebuilding it", self.path)
            shutil.rmtree(aside, ignore_errors=True)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            return tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StoreError(f"cannot open the lexical index at {self.path}: {exc}") from exc

    # ------------------------------------------------------------------ change detection

    def version(self) -> bytes:
        """Changes whenever any process commits to the index: the meta file's bytes (a commit
        raises its opstamp; a merge changes its segment list)."""
        try:
            return self._meta.read_bytes()
        except FileNotFoundError:
            return b""

    def refresh(self) -> bool:
        """Reload if another process (or this one) committed since the last look; True if so."""
        current = self.version()
        if current == self._seen:
            return False
        self._index.reload()
        self._searcher = self._index.searcher()
        self._seen = current
        self.generation += 1
        return True

    # ------------------------------------------------------------------ writes

    def upsert(
        self, papers: Sequence[Paper], written: int | Sequence[int], vectors: np.ndarray | None
    ) -> int:
        """Insert or replace papers by id in one commit (durable when this returns); `written`
        is the stamp of every paper's record, or one stamp per paper; `vectors` one row per
        paper, or None to keep none (a Chroma server's clients never need them). Returns the
        batch's `indexed` stamp (0 when there was nothing to write)."""
        if not papers:
            return 0
        if vectors is not None and len(vectors) != len(papers):
            raise ValueError(f"{len(papers)} papers but {len(vectors)} vectors")
        stamps = [written] * len(papers) if isinstance(written, int) else list(written)
        rows = (
            np.zeros((len(papers), 0), dtype=np.float32)
            if vectors is None
            else np.ascontiguousarray(vectors, dtype=np.float32)
        )
        writer = self._writer()
        # Taken with the writer lock held, after the caller's Chroma write returned.
        indexed = now_us()
        try:
            for paper, stamp, row in zip(papers, stamps, rows, strict=True):
                writer.delete_documents_by_term("id", paper.id)
                writer.add_document(self._document(paper, stamp, indexed, row))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # also releases the writer lock
        self.refresh()
        return indexed

    def _document(
        self, paper: Paper, written: int, indexed: int, vector: np.ndarray
    ) -> tantivy.Document:
        return tantivy.Document(
            id=paper.id,
            content_hash=paper.content_hash,
            terms=" ".join(tokenize(f"{paper.title} {paper.abstract}")),
            published=date_key(paper.published) if paper.published else 0,
            upvotes=paper.upvotes if paper.upvotes is not None else -1,
            has_code=int(paper.has_code),
            written=written,
            indexed=indexed,
            vector=vector.tobytes(),
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

    def recent(self, since: int, dim: int, exclude: Iterable[int] = ()) -> Recent:
        """The papers whose documents were indexed at or after `since`, except those indexed
        at one of the `exclude` stamps, with their vectors."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [
            (
                tantivy.Occur.Must,
                tantivy.Query.range_query(
                    self._schema, "indexed", tantivy.FieldType.Integer, lower_bound=since
                ),
            )
        ]
        clauses += [
            (tantivy.Occur.MustNot, tantivy.Query.term_query(self._schema, "indexed", stamp))
            for stamp in sorted(set(exclude))
        ]
        query = tantivy.Query.boolean_query(clauses)
        total = self.count()
        if total == 0:
            return Recent.empty(dim)
        result = self._searcher.search(query, total, count=False)
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for _, address in result.hits:
            doc = self._searcher.doc(address)
            vector = np.frombuffer(doc["vector"][0], dtype=np.float32)
            if len(vector) == dim:  # written without a vector: nothing to search it by
                ids.append(str(doc["id"][0]))
                rows.append(vector)
        if not ids:
            return Recent.empty(dim)
        return Recent(ids, np.stack(rows), {pid: n for n, pid in enumerate(ids)})

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
