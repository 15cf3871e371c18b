"""Stage 6, emit: write records to sinks named by URL.

``jsonl:PATH`` (a bare path means the same), ``sqlite:///PATH``, ``postgresql://...``
(:mod:`pipeline.sinks_postgres`) and ``stix:PATH`` (:mod:`pipeline.stix`). A run writes each
sink whole: JSONL output goes to ``PATH.partial`` renamed into place at the end, and the
databases upsert by ``id``; so re-running the same batch replaces, never duplicates.

A sink that cannot store a record (after its own retries) does not raise: it reports the record
with :meth:`Sink.failures`, and :func:`pipeline.batch.run` turns it into a reject.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .schema import Record, Reject

from .paths import DEFAULT_CONFIG


@dataclass(frozen=True)
class SinkFailure:
    """A record that a sink gave up on: its ``id`` and why (``sink postgresql failed: ...``)."""

    id: str
    reason: str


class SinkError(RuntimeError):
    """A sink could not be opened (unreachable server, incompatible database schema...)."""


class Sink(Protocol):
    url: str

    def write(self, record: Record) -> None: ...

    def failures(self) -> list[SinkFailure]:
        """Records given up on since the last call (each reported once). Batching sinks learn
        of a failure only when they flush, so this is asked after writes and after ``close``."""
        ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class _Infallible:
    """For sinks whose write errors are exceptions that stop the run (local files)."""

    def failures(self) -> list[SinkFailure]:
        return []


class _AtomicLines:
    """Lines written to ``PATH.partial`` beside ``path``, renamed over it on close.

    ``resume_at``: keep the first ``resume_at`` bytes of an existing partial file and append
    after them (a resumed run, :mod:`pipeline.resume`); by default the partial file starts empty.
    ``position`` is the byte length written so far; ``sync()`` makes it durable. The partial file
    is locked while open, so two runs cannot write the same output at once.
    """

    def __init__(self, path: str | Path, resume_at: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(self.path.name + ".partial")
        fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"{self.path} is being written by another run ({self.partial} is locked)") from None
        self.position = min(resume_at or 0, os.fstat(fd).st_size)
        os.ftruncate(fd, self.position)
        os.lseek(fd, self.position, os.SEEK_SET)
        self._handle = os.fdopen(fd, "wb", buffering=1 << 16)

    def write_line(self, line: str) -> None:
        data = line.encode("utf-8") + b"\n"
        self._handle.write(data)
        self.position += len(data)

    def sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self.sync()
        os.replace(self.partial, self.path)
        self._handle.close()

    def suspend(self) -> None:
        """Stop writing but keep the partial file, for a later run to resume."""
        self.sync()
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()
        self.partial.unlink(missing_ok=True)


class _PartialFile:
    """Checkpoint hooks of a file written through ``_AtomicLines`` (:mod:`pipeline.resume`)."""

    _lines: _AtomicLines

    @property
    def partial(self) -> Path:
        return self._lines.partial

    @property
    def position(self) -> int:
        return self._lines.position

    def sync(self) -> None:
        self._lines.sync()

    def suspend(self) -> None:
        self._lines.suspend()


class JsonlSink(_Infallible, _PartialFile):
    def __init__(self, path: str | Path, resume_at: int | None = None):
        self.url = f"jsonl:{path}"
        self._lines = _AtomicLines(path, resume_at)

    def write(self, record: Record) -> None:
        self._lines.write_line(record.model_dump_json())

    def close(self) -> None:
        self._lines.close()

    def abort(self) -> None:
        self._lines.abort()


class RejectsFile(_PartialFile):
    def __init__(self, path: str | Path, resume_at: int | None = None):
        self.path = Path(path)
        self._lines = _AtomicLines(path, resume_at)

    def write(self, reject: Reject) -> None:
        self._lines.write_line(reject.model_dump_json())

    def close(self) -> None:
        self._lines.close()

    def abort(self) -> None:
        self._lines.abort()


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT,
    published TEXT,
    url TEXT,
    language TEXT NOT NULL,
    is_security INTEGER NOT NULL,
    security_score REAL NOT NULL,
    schema_version TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_categories (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (article_id, category)
);
CREATE TABLE IF NOT EXISTS article_entities (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('organization', 'person')),
    name TEXT NOT NULL,
    aliases TEXT NOT NULL,
    role TEXT,
    affiliation TEXT,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (article_id, kind, name)
);
CREATE TABLE IF NOT EXISTS article_percentages (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value REAL NOT NULL,
    text TEXT NOT NULL,
    measure TEXT,
    direction TEXT,
    PRIMARY KEY (article_id, position)
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE INDEX IF NOT EXISTS categories_by_name ON article_categories(category);
CREATE INDEX IF NOT EXISTS entities_by_name ON article_entities(kind, name);
CREATE VIEW IF NOT EXISTS articles_by_category AS
    SELECT c.category, a.id, a.title, a.published, c.score
    FROM article_categories c JOIN articles a ON a.id = c.article_id;
CREATE VIEW IF NOT EXISTS articles_by_organization AS
    SELECT e.name AS organization, a.id, a.title, a.published
    FROM article_entities e JOIN articles a ON a.id = e.article_id WHERE e.kind = 'organization';
CREATE VIEW IF NOT EXISTS articles_by_person AS
    SELECT e.name AS person, e.role, e.affiliation, a.id, a.title, a.published
    FROM article_entities e JOIN articles a ON a.id = e.article_id WHERE e.kind = 'person';
CREATE VIEW IF NOT EXISTS articles_by_date AS
    SELECT substr(published, 1, 10) AS day, id, title, is_security FROM articles;
"""
SQLITE_SCHEMA_VERSION = "1"


class SqliteSink(_Infallible):
    """The embedded database: one row per article (the record as JSON plus indexed columns),
    and tables and views for the usual questions (by category, organisation, person, date)."""

    def __init__(self, path: str | Path, batch_size: int = 500):
        self.url = f"sqlite:///{path}"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SQLITE_SCHEMA)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SQLITE_SCHEMA_VERSION,))
        self._pending = 0
        self._batch_size = batch_size

    def write(self, record: Record) -> None:
        db = self._db
        db.execute("DELETE FROM articles WHERE id = ?", (record.id,))
        db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.id, record.title, record.source.published, record.source.url, record.language,
             int(record.threat.is_security), record.threat.security_score, record.schema_version,
             record.model_dump_json()),
        )
        db.executemany("INSERT INTO article_categories VALUES (?, ?, ?)",
                       [(record.id, c, record.threat.scores.get(c, 0.0)) for c in record.threat.categories])
        rows = [(record.id, "organization", o.name, json.dumps(o.aliases, ensure_ascii=False), None, None,
                 len(o.mentions)) for o in record.organizations]
        rows += [(record.id, "person", p.name, json.dumps(p.aliases, ensure_ascii=False), p.role,
                  p.affiliation, len(p.mentions)) for p in record.people]
        db.executemany("INSERT OR IGNORE INTO article_entities VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO article_percentages VALUES (?, ?, ?, ?, ?, ?)",
                       [(record.id, i, p.value, p.text, p.measure, p.direction)
                        for i, p in enumerate(record.percentages)])
        self._pending += 1
        if self._pending >= self._batch_size:
            db.commit()
            self._pending = 0

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def abort(self) -> None:
        self._db.commit()  # records written so far are whole and correct; keep them
        self._db.close()


def sink_settings(config: str | Path | None = None) -> dict[str, Any]:
    """The ``[sinks]`` table of the pipeline config (``configs/pipeline.toml`` by default)."""
    path = Path(config) if config else DEFAULT_CONFIG
    if not path.exists() and config is None:
        return {}
    with open(path, "rb") as handle:
        return dict(tomllib.load(handle).get("sinks", {}))


def open_sink(url: str, config: str | Path | None = None) -> Sink:
    """A sink for ``url``: ``jsonl:PATH``, ``sqlite:///PATH``, ``postgresql://...``,
    ``stix:PATH`` or a bare path (JSONL). ``config`` is the pipeline config whose ``[sinks.*]``
    tables give the defaults (batch size, retries) that the URL's query parameters override.

    Raises ``ValueError`` for an unsupported or malformed URL, :class:`SinkError` when the sink
    cannot be opened.
    """
    if url.startswith("sqlite:///"):
        return SqliteSink(url[len("sqlite:///"):])
    if url.startswith("jsonl:"):
        return JsonlSink(url[len("jsonl:"):])
    if url.startswith(("postgresql://", "postgres://")):
        from .sinks_postgres import PostgresSink

        return PostgresSink.from_url(url, settings=sink_settings(config).get("postgresql", {}))
    if url.startswith("stix:"):
        from .stix import StixSink

        return StixSink(url[len("stix:"):])
    if "://" in url:
        raise ValueError(f"unsupported sink {url!r}: use jsonl:PATH, sqlite:///PATH, "
                         "postgresql://USER@HOST/DB or stix:PATH")
    return JsonlSink(url)
