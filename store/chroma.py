"""`PaperStore`: the papers, their vectors and their lexical index. The only module that imports
chromadb.

One collection holds one embedding model's vectors. The collection's metadata records the
embedder's name and dimension, and opening it with another model is an error rather than a
silent mix of incomparable vectors. Each paper is stored whole (as JSON) so that `get` rebuilds
the exact `Paper`, plus the few fields search filters on as typed metadata: `published` as an
int yyyymmdd (range filters), `upvotes` as an int, `has_code` as a bool, and `written`, the
time (microseconds since the epoch) its record was last written.

The lexical index (`store.lexical.LexicalIndex`, BM25 and the filter columns) lives on disk in
the data directory, `lexical/<collection>` (with a server: `lexical/<collection>@<host>-<port>`).
`upsert` writes each batch to Chroma and then to the lexical index, each durable before the
next batch; a batch that reached Chroma but not the index (the process was killed in between)
is found by ingest, which compares both (`indexed_hashes`), and rewritten.

Readers see writers (`refresh`, called before each search, costs one small read when nothing
changed):
- Embedded store: the lexical index is shared by every process using the data directory, so it
  is always current, and so are the papers themselves (Chroma keeps them in SQLite). Chroma's
  vector index is not shared live: each process holds its own copy in memory, loaded when its
  client first searches, and does not see another process's writes (its dense results go stale
  and asking it for a new paper's vector fails with "Error finding id"; Chroma documents its
  embedded client as not process-safe). So a process searches the papers its client may lack
  exactly instead: those whose lexical document was indexed since just before the client
  loaded, except the batches this process wrote through that client (`LexicalIndex.recent`,
  vectors read from the lexical index, which holds each paper's vector). Chroma's results leave
  those ids out (an updated abstract's old vector loses to its new one) and the two lists are
  merged by cosine. Meanwhile a fresh client is opened and its vector index loaded on a
  background thread (Chroma's Rust core releases the GIL while loading), and swapped in at the
  next search once it is ready; no search waits for it. A Chroma internal error on a read is
  still recovered by one synchronous reopen, before it is reported.
- Chroma server: every client has its own lexical index, kept consistent with the server. Each
  write also changes a token in the collection's metadata (`paperbrief_version`); when a client
  sees a new token it reads the records written since its newest `written` stamp, less
  `SYNC_MARGIN_US` (writes of other clients that started earlier but committed later, and clock
  differences between machines up to that margin), and indexes those whose content hash
  differs. A client whose index holds fewer papers than the collection reads it all once. The
  server holds the one vector index, so nothing is reopened.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import chromadb.errors
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from store.config import StoreSettings
from store.errors import StoreError, StoreMismatchError
from store.lexical import LexicalIndex, Recent, now_us
from store.models import Link, Paper, date_key

_REQUIRED = frozenset(Paper.model_fields)

# Metadata keys of the collection itself.
_EMBEDDER_KEY = "paperbrief_embedder"
_DIM_KEY = "paperbrief_dim"
_VERSION_KEY = "paperbrief_version"
# How far before its newest `written` stamp a client re-reads a shared server's records when the
# server changed (microseconds): covers a write that started earlier than one already seen but
# committed later, and clocks of different machines that disagree by less than this.
SYNC_MARGIN_US = 30_000_000
# Chroma refuses batches above its max batch size and SQLite binds every id as a variable,
# so reads and writes go in chunks of this many ids.
_CHUNK = 1000
# How far before a client's vector index was loaded papers count as possibly missing from it
# (microseconds): the stamps of two processes come from one wall clock, which may be adjusted.
CLOCK_MARGIN_US = 250_000
# A process whose Chroma client lacks other processes' papers reopens it in the background once
# the lexical index has had no new commit for this long (seconds), or at once when this many
# papers are searched exactly: a long ingest by another process is not chased by a reopen
# after every batch.
REOPEN_QUIET_S = 1.0
REOPEN_AT_PAPERS = 1000

log = logging.getLogger(__name__)
# Chroma keeps one client state per path and process in a class-level registry.
_REGISTRY_LOCK = threading.Lock()


def where_filter(
    since: date | None = None,
    until: date | None = None,
    min_upvotes: int | None = None,
    has_code: bool | None = None,
) -> dict[str, Any] | None:
    """A Chroma `where` clause for the search filters; None when there is nothing to filter.

    Papers without a date (or without upvotes) never pass a date (or upvotes) filter.
    """
    clauses: list[dict[str, Any]] = []
    if since is not None:
        clauses.append({"published": {"$gte": date_key(since)}})
    if until is not None:
        clauses.append({"published": {"$lte": date_key(until)}})
    if min_upvotes is not None:
        clauses.append({"upvotes": {"$gte": min_upvotes}})
    if has_code is not None:
        clauses.append({"has_code": has_code})
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses}


def _metadata(paper: Paper, written: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "paper": paper.model_dump_json(),
        "content_hash": paper.content_hash,
        "has_code": paper.has_code,
        "written": written,
    }
    # Chroma metadata cannot hold None; an absent key simply fails the range filters.
    if paper.published is not None:
        meta["published"] = date_key(paper.published)
    if paper.upvotes is not None:
        meta["upvotes"] = paper.upvotes
    return meta


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Connection:
    """How to (re)open the collection: the client factory and the collection's identity."""

    settings: StoreSettings
    path: Path | None  # the embedded store's directory; None with a server
    embedder_name: str
    dim: int

    def client(self) -> Any:
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.path is None:
            assert self.settings.chroma_url is not None
            parts = urlsplit(self.settings.chroma_url)
            if not parts.hostname:
                raise StoreError(f"store.chroma_url={self.settings.chroma_url!r}: no host name")
            ssl = parts.scheme == "https"
            return chromadb.HttpClient(
                host=parts.hostname,
                port=parts.port or (443 if ssl else 8000),
                ssl=ssl,
                settings=chroma_settings,
            )
        return chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)

    def collection(self, client: Any) -> Any:
        return client.get_or_create_collection(
            self.settings.collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={_EMBEDDER_KEY: self.embedder_name, _DIM_KEY: self.dim},
            embedding_function=None,
        )

    def reopen(self) -> Any:
        """A fresh embedded client: Chroma shares one client state per path and process, which
        holds the stale vector index, so that state is dropped from its registry first (the
        old client keeps working for whoever still holds it)."""
        assert self.path is not None
        with _REGISTRY_LOCK:
            SharedSystemClient._identifier_to_system.pop(str(self.path), None)
            SharedSystemClient._identifier_to_refcount.pop(str(self.path), None)
            return self.collection(self.client())

    def loaded(self) -> tuple[Any, int]:
        """A fresh embedded client with its vector index loaded (by one small query), and the
        stamp taken before it started loading."""
        since = now_us() - CLOCK_MARGIN_US
        collection = self.reopen()
        if collection.count():
            probe = np.ones((1, self.dim), dtype=np.float32)
            collection.query(query_embeddings=probe, n_results=1, include=[])
        return collection, since


class _Reopen(threading.Thread):
    """Opens and loads a fresh embedded client while the current one keeps serving."""

    def __init__(self, connection: _Connection) -> None:
        super().__init__(name="paperbrief-chroma-reopen")
        self._connection = connection
        self.result: tuple[Any, int] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._connection.loaded()
        except Exception as exc:  # reported by the thread that swaps
            self.error = exc


def _lexical_path(settings: StoreSettings, data_dir: Path) -> Path:
    name = settings.collection
    if settings.chroma_url:
        parts = urlsplit(settings.chroma_url)
        name += f"@{parts.hostname}-{parts.port or 0}"
    return Path(data_dir) / "lexical" / name


class PaperStore:
    """Papers, their vectors and filterable metadata in one Chroma collection, with their
    lexical index beside it."""

    def __init__(
        self,
        collection: Any,
        embedder_name: str,
        dim: int,
        location: str,
        lexical: LexicalIndex,
        connection: _Connection | None = None,
        loaded_since: int = 0,
    ) -> None:
        self._collection = collection
        self.embedder_name = embedder_name
        self.dim = dim
        self.location = location
        self.lexical = lexical
        self._connection = connection
        self._server = connection is not None and connection.path is None
        self._token: str | None = None  # the server's change token as of the last catch-up
        self._checked = False  # whether the lexical index was compared with Chroma's count
        # Embedded store: what the current client may lack (see the module docstring).
        self._lock = threading.RLock()
        self._since = loaded_since  # papers indexed from then on may be missing from the client
        self._own: set[int] = set()  # `indexed` stamps of batches written through the client
        self._recent = Recent.empty(dim)  # the papers searched exactly instead
        self._generation = -1  # the lexical index's generation `_recent` was read at
        self._last_change = time.monotonic()
        self._reopening: _Reopen | None = None

    @classmethod
    def open(
        cls, settings: StoreSettings, data_dir: Path, embedder_name: str, dim: int
    ) -> PaperStore:
        """Open (or create) the collection for this embedder, and its lexical index.

        Embedded store under `data_dir/chroma` unless `settings.chroma_url` names a server.
        Raises `StoreMismatchError` when the collection holds another model's vectors.
        """
        path = None if settings.chroma_url else Path(data_dir) / "chroma"
        connection = _Connection(settings, path, embedder_name, dim)
        since = now_us() - CLOCK_MARGIN_US  # the client loads its vector index after this
        try:
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
            collection = connection.collection(connection.client())
        except StoreError:
            raise
        except Exception as exc:
            where = settings.chroma_url or str(Path(data_dir) / "chroma")
            raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc
        location = settings.chroma_url or str(path)
        meta = collection.metadata or {}
        found_name, found_dim = meta.get(_EMBEDDER_KEY), meta.get(_DIM_KEY)
        if found_name != embedder_name or found_dim != dim:
            raise StoreMismatchError(
                f"collection {settings.collection!r} at {location} holds vectors of "
                f"{found_name!r} (dimension {found_dim}), not {embedder_name!r} (dimension "
                f"{dim}); use the same embedding settings, another data directory or another "
                "store.collection"
            )
        store = cls(
            collection,
            embedder_name,
            dim,
            location,
            LexicalIndex(_lexical_path(settings, data_dir)),
            connection,
            since,
        )
        store.refresh()
        return store

    # ------------------------------------------------------------------ readers see writers

    def refresh(self) -> bool:
        """Catch up with writes by other processes and clients; True when there were some."""
        if self._server:
            return self._catch_up_with_server()
        with self._lock:
            changed = self.lexical.refresh()
            if changed:
                self._last_change = time.monotonic()
            if (changed or not self._checked) and self.lexical.count() < self.count():
                # Papers stored before the lexical index existed, or a batch whose index write
                # was interrupted: index what is missing once.
                self._index_from_chroma(None)
                changed = True
            self._checked = True
            if self._connection is None:
                return changed
            swapped = self._swap_if_ready()
            if swapped or self._generation != self.lexical.generation:
                self._generation = self.lexical.generation
                self._recent = self.lexical.recent(self._since, self.dim, self._own)
            quiet = time.monotonic() - self._last_change >= REOPEN_QUIET_S
            if self._reopening is None and (
                (self._recent and (quiet or len(self._recent) >= REOPEN_AT_PAPERS))
                or len(self._own) > REOPEN_AT_PAPERS
            ):
                self._reopening = _Reopen(self._connection)
                self._reopening.start()
            return changed or swapped

    def settle(self, timeout: float | None = None) -> None:
        """Wait for a background reopen of the embedded client (starting one if the client
        lacks papers) and swap it in. Searches never need this; benches and tests use it."""
        if self._server or self._connection is None:
            return
        self.refresh()
        with self._lock:
            if self._reopening is None and self._recent:
                self._reopening = _Reopen(self._connection)
                self._reopening.start()
            job = self._reopening
        if job is not None:
            job.join(timeout)
            self.refresh()

    @property
    def searched_exactly(self) -> int:
        """How many papers are searched exactly because the embedded client may lack them."""
        return len(self._recent)

    def _swap_if_ready(self) -> bool:
        """Put the background reopen's client in place when it is ready; True if it was."""
        job = self._reopening
        if job is None or job.is_alive():
            return False
        self._reopening = None
        if job.result is None:
            log.warning(
                "reopening the Chroma store at %s failed (%s); papers it lacks are searched "
                "exactly meanwhile",
                self.location,
                job.error,
            )
            return False
        self._collection, self._since = job.result
        self._own = set()
        return True

    def _server_token(self) -> str:
        assert self._connection is not None
        client = self._collection._client
        collection = client.get_collection(self._connection.settings.collection)
        return str((collection.metadata or {}).get(_VERSION_KEY, ""))

    def _catch_up_with_server(self) -> bool:
        self.lexical.refresh()
        token = self._server_token()
        if token == self._token:
            return False
        if self.lexical.count() < self.count():
            self._index_from_chroma(None)
        else:
            self._index_from_chroma(max(self.lexical.latest_written() - SYNC_MARGIN_US, 0))
        self._token = token
        return True

    def _index_from_chroma(self, written_since: int | None) -> None:
        """Index the stored papers (all, or those written since a stamp) whose content hash
        the lexical index does not hold."""
        where = None if written_since is None else {"written": {"$gte": written_since}}
        for page, stamps, vectors in self._pages(where, vectors=not self._server):
            indexed = self.lexical.hashes([paper.id for paper in page])
            stale = [
                n for n, paper in enumerate(page) if indexed.get(paper.id) != paper.content_hash
            ]
            if stale:
                stamp = self.lexical.upsert(
                    [page[n] for n in stale],
                    [stamps[n] for n in stale],
                    None if self._server else vectors[stale],
                )
                # Read through this client, so its vector index holds them.
                self._own.add(stamp)

    def _bump_token(self) -> None:
        """Tell the server's other clients that the collection changed."""
        meta = dict(self._collection.metadata or {})
        meta[_VERSION_KEY] = uuid.uuid4().hex
        self._collection.modify(metadata=meta)

    def _read(self, method: str, **arguments: Any) -> Any:
        """Call one of the collection's read methods. An embedded store that another process
        changed under this one can still fail with an internal error: reopen it and try once
        more."""
        collection = self._collection
        try:
            return getattr(collection, method)(**arguments)
        except chromadb.errors.InternalError:
            if self._server or self._connection is None:
                raise
            with self._lock:
                if self._collection is collection:
                    since = now_us() - CLOCK_MARGIN_US
                    self._collection = self._connection.reopen()
                    self._since, self._own = since, set()
                    self._recent = self.lexical.recent(since, self.dim)
            return getattr(self._collection, method)(**arguments)

    # ------------------------------------------------------------------ writes

    def count(self) -> int:
        return int(self._read("count"))

    def upsert(self, papers: Sequence[Paper], vectors: np.ndarray) -> None:
        """Insert or replace papers by id, with their vectors (one row per paper): each chunk
        to Chroma, then to the lexical index."""
        if len(papers) != len(vectors):
            raise ValueError(f"{len(papers)} papers but {len(vectors)} vectors")
        if len(papers) == 0:
            return
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise StoreMismatchError(
                f"vectors of shape {vectors.shape} for a store of dimension {self.dim}"
            )
        for start in range(0, len(papers), _CHUNK):
            batch = papers[start : start + _CHUNK]
            written = now_us()
            self._collection.upsert(
                ids=[paper.id for paper in batch],
                embeddings=np.asarray(vectors[start : start + _CHUNK], dtype=np.float32),
                # No `documents`: Chroma would build a full-text index of them, which made
                # writes about 3x slower, and the paper JSON in the metadata holds the text.
                metadatas=[_metadata(paper, written) for paper in batch],
            )
            # A server's clients never search exactly, so their index keeps no vectors.
            own_vectors = None if self._server else vectors[start : start + _CHUNK]
            stamp = self.lexical.upsert(batch, written, own_vectors)
            with self._lock:
                self._own.add(stamp)
        if self._server:
            self._bump_token()

    # ------------------------------------------------------------------ reads

    def _get(self, ids: Sequence[str], include: list[str]) -> dict[str, Any]:
        """Chroma's `get`, chunked; skips unknown ids (Chroma returns rows in its own order)."""
        merged: dict[str, Any] = {"ids": [], "metadatas": [], "embeddings": []}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            result = self._read("get", ids=list(chunk), include=include)
            merged["ids"].extend(result["ids"])
            for key in ("metadatas", "embeddings"):
                if key in include:
                    merged[key].extend(result[key])
        return merged

    def get(self, ids: Sequence[str]) -> list[Paper]:
        """The papers with these ids that are stored, in the order asked."""
        result = self._get(ids, ["metadatas"])
        by_id = {
            pid: _paper_from(pid, meta)
            for pid, meta in zip(result["ids"], result["metadatas"], strict=True)
        }
        return [by_id[pid] for pid in ids if pid in by_id]

    def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """id -> content hash, for the ids that are stored."""
        result = self._get(ids, ["metadatas"])
        return {
            pid: str(meta["content_hash"])
            for pid, meta in zip(result["ids"], result["metadatas"], strict=True)
        }

    def indexed_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """id -> content hash in the lexical index, for the ids it holds."""
        return self.lexical.hashes(ids)

    def all_papers(self, where: dict[str, Any] | None = None) -> list[Paper]:
        """Every stored paper passing `where` (read in pages so memory stays flat)."""
        return [paper for page, _, _ in self._pages(where) for paper in page]

    def _pages(
        self, where: dict[str, Any] | None, vectors: bool = False
    ) -> Iterator[tuple[list[Paper], list[int], np.ndarray]]:
        """Stored papers in pages, with each one's `written` stamp (0 when it has none) and,
        when asked, their vectors (else an empty array)."""
        include = ["metadatas", "embeddings"] if vectors else ["metadatas"]
        offset = 0
        while True:
            page = self._read("get", where=where, include=include, limit=_CHUNK, offset=offset)
            if not page["ids"]:
                return
            papers = [
                _paper_from(pid, meta)
                for pid, meta in zip(page["ids"], page["metadatas"], strict=True)
            ]
            rows = (
                np.asarray(page["embeddings"], dtype=np.float32)
                if vectors
                else np.zeros((0, self.dim), dtype=np.float32)
            )
            yield papers, [int(meta.get("written", 0)) for meta in page["metadatas"]], rows
            offset += len(page["ids"])

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these ids, one row each in the order asked."""
        recent = self._recent
        from_chroma = [pid for pid in ids if pid not in recent.row]
        result = self._get(from_chroma, ["embeddings"]) if from_chroma else {"ids": []}
        by_id = dict(zip(result["ids"], result.get("embeddings", []), strict=True))
        by_id.update((pid, recent.vectors[recent.row[pid]]) for pid in ids if pid in recent.row)
        missing = [pid for pid in ids if pid not in by_id]
        if missing:
            raise KeyError(f"no stored paper with id {missing[0]!r} ({len(missing)} missing)")
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray([by_id[pid] for pid in ids], dtype=np.float32)

    def query(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The k nearest papers to `vector` that pass `where` (and are among `ids` when given),
        as (id, cosine similarity). Papers the embedded client may lack (or hold an older
        vector of) are searched exactly and left out of Chroma's answer."""
        if k <= 0 or (ids is not None and not ids):
            return []
        probe = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        recent = self._recent
        if not recent:
            return self._nearest(probe, k, where, ids)
        if ids is not None:
            rows = [recent.row[pid] for pid in dict.fromkeys(ids) if pid in recent.row]
            older = [pid for pid in ids if pid not in recent.row]
            found = self._nearest(probe, k, where, older) if older else []
        else:
            rows = list(range(len(recent)))
            n = k + min(len(recent), 50)
            while True:
                nearest = self._nearest(probe, n, where, None)
                found = [hit for hit in nearest if hit[0] not in recent.row]
                if len(found) >= k or len(nearest) < n:
                    break
                n *= 2
        if where is not None and rows:
            passing = set(
                self._read("get", ids=[recent.ids[r] for r in rows], where=where, include=[])["ids"]
            )
            rows = [r for r in rows if recent.ids[r] in passing]
        merged = dict(found)
        exact = _cosines(recent.vectors[rows], probe[0])
        merged.update(zip([recent.ids[r] for r in rows], exact, strict=True))
        return sorted(merged.items(), key=lambda hit: (-hit[1], hit[0]))[:k]

    def _nearest(
        self,
        probe: np.ndarray,
        k: int,
        where: dict[str, Any] | None,
        ids: Sequence[str] | None,
    ) -> list[tuple[str, float]]:
        """Chroma's k nearest, as (id, cosine similarity)."""
        result = self._read(
            "query",
            query_embeddings=probe,
            n_results=k,
            where=where,
            ids=list(ids) if ids is not None else None,
            include=["distances"],
        )
        found = result["ids"][0]
        distances = result["distances"][0] if result["distances"] else []
        # Chroma's cosine space reports distance = 1 - cosine similarity.
        return [(pid, 1.0 - float(dist)) for pid, dist in zip(found, distances, strict=True)]


def _cosines(rows: np.ndarray, vector: np.ndarray) -> list[float]:
    """Cosine similarity of each row with `vector` (0 for a zero vector)."""
    norms = np.linalg.norm(rows, axis=1) * float(np.linalg.norm(vector))
    dots = rows @ vector
    return [float(d / n) if n > 0 else 0.0 for d, n in zip(dots, norms, strict=True)]


def _paper_from(pid: str, meta: Any) -> Paper:
    """Rebuild a stored paper without validating it again.

    Every stored record was validated (and its text normalised) by `Paper` before it was
    written; re-running the Unicode normalisation on read was three quarters of the time of
    loading a large store.
    """
    try:
        data = json.loads(meta["paper"])
        missing = _REQUIRED - data.keys()
        if missing:
            raise ValueError(f"missing {sorted(missing)}")
        data["links"] = [Link.model_construct(**link) for link in data.get("links") or []]
        if data.get("published"):
            data["published"] = date.fromisoformat(data["published"])
        return Paper.model_construct(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"stored record {pid!r} is not a paperbrief paper: {exc}") from exc
