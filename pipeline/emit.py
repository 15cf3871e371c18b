"""Stage 6, emit: write records to sinks named by URL.

``jsonl:PATH`` (a bare path means the same) and ``sqlite:///PATH``. A run writes each sink
whole: JSONL output goes to a temporary file renamed into place at the end, and the database
upserts by ``id``; so re-running the same batch replaces, never duplicates.
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Protocol

from .schema import Record, Reject


class Sink(Protocol):
    url: str

    def write(self, record: Record) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class _AtomicLines:
    """Lines written to a temporary file beside ``path``, renamed over it on close."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def write_line(self, line: str) -> None:
        self._handle.write(line)
        self._handle.write("\n")

    def close(self) -> None:
        self._handle.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._handle.close()
        Path(self._tmp).unlink(missing_ok=True)


class JsonlSink:
    def __init__(self, path: str | Path):
        self.url = f"jsonl:{path}"
        self._lines = _AtomicLines(path)

    def write(self, record: Record) -> None:
        self._lines.write_line(record.model_dump_json())

    def close(self) -> None:
        self._lines.close()

    def abort(self) -> None:
        self._lines.abort()


class RejectsFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lines = _AtomicLines(path)

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


class SqliteSink:
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


def open_sink(url: str) -> Sink:
    """A sink for ``url``: ``jsonl:PATH``, ``sqlite:///PATH`` or a bare path (JSONL)."""
    if url.startswith("sqlite:///"):
        return SqliteSink(url[len("sqlite:///"):])
    if url.startswith("jsonl:"):
        return JsonlSink(url[len("jsonl:"):])
    if "://" in url:
        raise ValueError(f"unsupported sink {url!r}: use jsonl:PATH or sqlite:///PATH")
    return JsonlSink(url)
