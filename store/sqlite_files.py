"""Opening the project's own SQLite files (the embedding cache, chat threads).

These files hold caches and history, never the papers (those live in Chroma). A file that is
not a readable SQLite database (truncated, overwritten, from another program) is set aside,
renamed `<name>.corrupt-<UTC time>` together with its `-wal` and `-shm` files, and a fresh one
is started, with one warning naming both paths: the cache is rebuilt as papers are embedded
again, and chat threads start over. Nothing is deleted.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def set_aside(path: Path) -> Path:
    """Rename `path` (and its `-wal` / `-shm` companions) out of the way; the new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(target.with_name(target.name + suffix))
    return target


def open_sqlite(path: Path, what: str, **connect_args: Any) -> sqlite3.Connection:
    """A connection to the SQLite file at `path` that answers queries; a file that does not
    is set aside (see the module docstring) and a new empty database opened in its place.
    `what` names the file's role in the warning ("embedding cache", "chat threads")."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _checked(path, connect_args)
    except sqlite3.DatabaseError as exc:
        moved = set_aside(path)
        log.warning(
            "%s %s is not a readable SQLite database (%s); moved it to %s and started a new "
            "one (stored papers are not affected)",
            what,
            path,
            exc,
            moved,
        )
        return _checked(path, connect_args)


def _checked(path: Path, connect_args: dict[str, Any]) -> sqlite3.Connection:
    conn = sqlite3.connect(path, **connect_args)
    try:
        # Reads the header and the schema: a file that is not a database fails here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn
