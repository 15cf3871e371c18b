"""The PostgreSQL sink: ``--sink postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?options]``.

One row per article in ``articles``: the record as JSONB plus indexed columns (``categories``,
``organizations``, ``people`` as ``text[]`` with GIN indexes, ``published_on``...), and the views
``articles_by_category``, ``articles_by_organization``, ``articles_by_person``,
``articles_by_date``. The tables come from the numbered SQL files of
``pipeline/migrations/postgresql/``, applied in order and recorded in
``vnsec_schema_migrations`` (under an advisory lock, so concurrent runs do not race).

Writes are batched (``batch_size`` records per transaction, ``executemany`` in pipeline mode)
and upsert by ``id`` (``INSERT ... ON CONFLICT (id) DO UPDATE``, a no-op when the record is
unchanged), so re-running a batch never duplicates.

Failures never stop the run silently and never stop it at all:

* a connection or server error (server down, restarted, network) retries the batch up to
  ``retries`` times, reconnecting, with exponential backoff from ``retry_backoff`` seconds;
* an error caused by the data (a constraint or a value PostgreSQL refuses) is not retried: the
  batch is written again one record at a time, so only the records at fault fail;
* each record given up on is reported by :meth:`PostgresSink.failures` with the reason
  ``sink postgresql failed: ...``, and the batch run writes it to the rejects file.

Settings come from ``[sinks.postgresql]`` in ``configs/pipeline.toml`` and may be overridden by
the URL's query (``?batch_size=200&retries=5&retry_backoff=1``); every other query parameter is
passed to libpq (``sslmode``, ``connect_timeout``, ``options=-csearch_path%3Dvnsec``...).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from .dates import parse_published
from .emit import SinkError, SinkFailure
from .schema import Record

# pg_advisory_xact_lock key that serialises migrations: b"vnsec" as an integer.
MIGRATION_LOCK = 0x766E736563
MIGRATIONS_TABLE = "vnsec_schema_migrations"
_OWN_OPTIONS = {"batch_size": int, "retries": int, "retry_backoff": float, "max_backoff": float}

_COLUMNS = ("id", "title", "published", "published_on", "url", "feed", "source_name", "language",
            "is_security", "security_score", "categories", "organizations", "people",
            "schema_version", "pipeline_version", "record")
_UPSERT = (
    f"INSERT INTO articles AS a ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('%s::jsonb' if c == 'record' else '%s' for c in _COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "id")
    + ", updated_at = now() WHERE a.record IS DISTINCT FROM EXCLUDED.record"
)
# libpq settings used unless the URL gives them: fail fast on an unreachable host, name ourselves.
_LIBPQ_DEFAULTS = {"connect_timeout": 10, "application_name": "vnsec"}
# Errors that a given record causes: retrying the same batch cannot help, isolating it does.
_DATA_ERRORS = (psycopg.DataError, psycopg.IntegrityError)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def migrations() -> list[Migration]:
    """The package's migrations (``NNNN_name.sql``), in version order."""
    folder = resources.files("pipeline.migrations").joinpath("postgresql")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest[: -len(".sql")], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {[m.version for m in found]}")
    return found


def migrate(conn: psycopg.Connection) -> list[int]:
    """Bring the database to the latest schema; returns the versions applied now.

    Everything happens in one transaction holding an advisory lock, so a failed migration leaves
    nothing behind and two runs starting at once apply each migration exactly once. An applied
    migration whose SQL changed since, or a database newer than this vnsec, is an error.
    """
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {v: c for v, c in conn.execute(f"SELECT version, checksum FROM {MIGRATIONS_TABLE}")}
        known = migrations()
        latest = known[-1].version if known else 0
        if applied and max(applied) > latest:
            raise SinkError(f"the database schema is at version {max(applied)}, newer than this vnsec "
                            f"knows ({latest}): upgrade vnsec")
        for migration in known:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise SinkError(f"migration {migration.version} ({migration.name}) was changed after it "
                                    "was applied to this database")
                continue
            conn.execute(migration.sql)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum) VALUES (%s, %s, %s)",
                         (migration.version, migration.name, migration.checksum))
            applied_now.append(migration.version)
    return applied_now


def redact(url: str) -> str:
    """``url`` without its password (for logs and summaries)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def split_options(url: str) -> tuple[str, dict[str, Any]]:
    """The libpq URL without our own query parameters, and those parameters typed."""
    parts = urlsplit(url)
    ours: dict[str, Any] = {}
    rest = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _OWN_OPTIONS:
            try:
                ours[key] = _OWN_OPTIONS[key](value)
            except ValueError:
                raise ValueError(f"sink option {key}={value!r} is not a {_OWN_OPTIONS[key].__name__}") from None
        else:
            rest.append((key, value))
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(rest))), ours


def _row(record: Record) -> tuple:
    source = record.source
    published = parse_published(source.published)
    return (record.id, record.title, source.published, published.date() if published else None, source.url,
            source.feed, source.name, record.language, record.threat.is_security, record.threat.security_score,
            list(record.threat.categories), [o.name for o in record.organizations],
            [p.name for p in record.people], record.schema_version, record.pipeline.version,
            record.model_dump_json())


def _describe(error: BaseException) -> str:
    message = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {message[:500]}"


class PostgresSink:
    """Upserts records into PostgreSQL in batches; see the module's documentation."""

    scheme = "postgresql"

    def __init__(self, dsn: str, *, batch_size: int = 500, retries: int = 3, retry_backoff: float = 0.5,
                 max_backoff: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        if batch_size < 1 or retries < 0 or retry_backoff < 0 or max_backoff < 0:
            raise ValueError("postgresql sink: batch_size must be >= 1, retries and backoffs >= 0")
        self.url = redact(dsn)
        self.batch_size = batch_size
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.max_backoff = max_backoff
        self.written = 0
        self._dsn = dsn
        self._sleep = sleep
        self._conn: psycopg.Connection | None = None
        self._pending: list[tuple] = []
        self._failed: list[SinkFailure] = []
        last: BaseException | None = None
        for attempt in range(retries + 1):
            self._backoff(attempt)
            try:
                migrate(self._connection())
                return
            except SinkError:
                self._disconnect()
                raise
            except psycopg.OperationalError as error:  # unreachable, starting up, too many clients...
                last = error
                self._disconnect()
            except psycopg.Error as error:  # the database refuses the migration: retrying cannot help
                self._disconnect()
                raise SinkError(f"cannot prepare {self.url}: {_describe(error)}") from None
        raise SinkError(f"cannot open {self.url}: {_describe(last)}")

    @classmethod
    def from_url(cls, url: str, settings: dict[str, Any] | None = None, **overrides: Any) -> "PostgresSink":
        dsn, options = split_options(url)
        unknown = set(settings or {}) - set(_OWN_OPTIONS)
        if unknown:
            raise ValueError(f"unknown [sinks.postgresql] settings: {', '.join(sorted(unknown))}")
        return cls(dsn, **{**(settings or {}), **options, **overrides})

    # -- connection -------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._disconnect()
            given = {key for key, _ in parse_qsl(urlsplit(self._dsn).query)}
            defaults = {k: v for k, v in _LIBPQ_DEFAULTS.items() if k not in given}
            self._conn = psycopg.connect(self._dsn, autocommit=True, **defaults)
        return self._conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
                pass
        self._conn = None

    def _backoff(self, attempt: int) -> None:
        if attempt:
            self._sleep(min(self.max_backoff, self.retry_backoff * 2 ** (attempt - 1)))

    # -- writing ----------------------------------------------------------------------------
    def write(self, record: Record) -> None:
        self._pending.append(_row(record))
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self, retries: int | None = None) -> None:
        """Write the pending batch now (retrying up to ``retries``, by default the sink's)."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        retries = self.retries if retries is None else retries
        last: BaseException | None = None
        for attempt in range(retries + 1):
            self._backoff(attempt)
            try:
                refused = self._write_batch(self._connection(), batch)
            except psycopg.Error as error:  # connection lost, server down or restarting...
                last = error
                self._disconnect()
                continue
            for record_id, error in refused:
                self._failed.append(SinkFailure(record_id, f"sink postgresql failed: {_describe(error)}"))
            self.written += len(batch) - len(refused)
            return
        attempts = f"{retries + 1} attempt{'s' if retries else ''}"
        for row in batch:
            self._failed.append(SinkFailure(row[0], f"sink postgresql failed: {_describe(last)} "
                                                    f"(batch of {len(batch)}, {attempts})"))

    def _write_batch(self, conn: psycopg.Connection, batch: list[tuple]) -> list[tuple[str, BaseException]]:
        """Upsert ``batch`` in one transaction; returns the records refused for their data."""
        refused: list[tuple[str, BaseException]] = []
        with conn.transaction():
            with conn.cursor() as cursor:
                try:
                    with conn.transaction():  # a savepoint: a data error undoes the batch only
                        cursor.executemany(_UPSERT, batch)
                    return refused
                except _DATA_ERRORS:
                    pass
                for row in batch:  # find the records at fault; keep the others
                    try:
                        with conn.transaction():
                            cursor.execute(_UPSERT, row)
                    except _DATA_ERRORS as error:
                        refused.append((row[0], error))
        return refused

    def failures(self) -> list[SinkFailure]:
        failed, self._failed = self._failed, []
        return failed

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._disconnect()

    def abort(self) -> None:
        """Keep what can be kept quickly: one attempt at the pending batch, no retries."""
        try:
            self.flush(retries=0)
        finally:
            self._disconnect()

