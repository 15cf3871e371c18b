"""The PostgreSQL sink against a real server: upserts, views, migrations, and what happens when
the server or a constraint refuses records (retries, then rejects; articles = records + rejects).

The server: $VNSEC_TEST_POSTGRES_DSN (``.ci/run`` starts one), else one these tests start with
``.ci/postgres``. Without either the tests skip, except under CI=true, where they fail.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.sql
import pytest
from typer.testing import CliRunner

from pipeline.batch import run as run_batch
from pipeline.cli import app
from pipeline.emit import JsonlSink, RejectsFile, SinkError, open_sink
from pipeline.ingest import read
from pipeline.language import PROJECT_ROOT
from pipeline.sinks_postgres import MIGRATIONS_TABLE, PostgresSink, migrate, migrations, redact, split_options

pytestmark = pytest.mark.postgres



def _unavailable(why: str):
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI=true needs a PostgreSQL server for these tests: {why}")
    pytest.skip(f"no PostgreSQL server: {why}")


@pytest.fixture(scope="module")
def server():
    dsn = os.environ.get("VNSEC_TEST_POSTGRES_DSN")
    started = None
    if not dsn:
        started = tempfile.mkdtemp(prefix="vnsec-pg-")
        script = str(PROJECT_ROOT / ".ci" / "postgres")
        result = subprocess.run(["bash", script, "start", started], capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            subprocess.run(["bash", script, "stop", started], capture_output=True, timeout=60)
            shutil.rmtree(started, ignore_errors=True)
            _unavailable(result.stderr.strip()[-500:])
        dsn = result.stdout.strip()
    try:
        psycopg.connect(dsn, connect_timeout=10).close()
    except psycopg.Error as error:
        _unavailable(f"{redact(dsn)}: {error}")
    yield dsn
    if started:
        subprocess.run(["bash", str(PROJECT_ROOT / ".ci" / "postgres"), "stop", started], capture_output=True,
                       timeout=60)


def _on_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@pytest.fixture()
def db(server):
    """A fresh database for one test: its URL."""
    name = f"vnsec_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _on_database(server, name)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def loaded_once(monkeypatch, nlp):
    """`vnsec run` in these tests uses the session's pipeline instead of loading its own."""
    from pipeline.language import Pipeline

    monkeypatch.setattr(Pipeline, "from_config", classmethod(lambda cls, path=None: nlp))



def flat(output: str) -> str:
    """CLI output without rich's box drawing and line wrapping."""
    return " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_run_upserts_records_with_indexed_columns_and_views(tmp_path, db, sample, articles):
    out = tmp_path / "records.jsonl"
    args = ["run", str(sample), "-o", str(out), "--sink", db + "?batch_size=7", "-q",
            "--summary-json", str(tmp_path / "summary.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["records"] == len(articles) and summary["sink_failures"] == {}
    jsonl = {r["id"]: r for r in lines_of(out)}
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT id, record, categories, organizations, people, is_security, published_on, "
                            "updated_at FROM articles").fetchall()
        assert len(rows) == len(articles)
        for rid, record, categories, organizations, people, is_security, published_on, _ in rows:
            assert record == jsonl[rid]  # the JSONB is the record, field for field
            assert categories == record["threat"]["categories"]
            assert organizations == [o["name"] for o in record["organizations"]]
            assert people == [p["name"] for p in record["people"]]
            assert is_security == record["threat"]["is_security"]
            assert published_on.isoformat() == record["source"]["published"]
        first_updates = {r[0]: r[7] for r in rows}
        gin = {name for (name,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'articles' AND indexdef LIKE '%USING gin%'")}
        assert {"articles_categories_gin", "articles_organizations_gin", "articles_people_gin"} <= gin
        assert conn.execute(f"SELECT version, name FROM {MIGRATIONS_TABLE}").fetchall() == [
            (m.version, m.name) for m in migrations()]
        malware = conn.execute("SELECT id FROM articles WHERE categories @> ARRAY['malware']").fetchall()
        assert {i for (i,) in malware} == {i for i, r in jsonl.items() if "malware" in r["threat"]["categories"]}
        by_category = conn.execute("SELECT count(*) FROM articles_by_category").fetchone()[0]
        assert by_category == sum(len(r["threat"]["categories"]) for r in jsonl.values())
        assert conn.execute("SELECT score FROM articles_by_category LIMIT 1").fetchone()[0] > 0
        people = sorted(conn.execute("SELECT id, person, role FROM articles_by_person").fetchall(), key=str)
        assert people == sorted([(r["id"], p["name"], p["role"]) for r in jsonl.values() for p in r["people"]], key=str)
        assert conn.execute("SELECT count(*) FROM articles_by_organization").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM articles_by_date WHERE day >= '2020-01-01'").fetchone()[0] > 0

    result = CliRunner().invoke(app, args)  # the same batch again: replaces, never duplicates
    assert result.exit_code == 0, result.output
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone() == (len(articles),) * 2
        again = dict(conn.execute("SELECT id, updated_at FROM articles").fetchall())
        assert again == first_updates  # unchanged records are not rewritten
        assert conn.execute(f"SELECT count(*) FROM {MIGRATIONS_TABLE}").fetchone()[0] == len(migrations())


def test_a_changed_record_is_updated_in_place(db, records):
    sink = PostgresSink.from_url(db)
    sink.write(records[0])
    sink.close()
    changed = records[0].model_copy(update={"title": "Tiêu đề mới"})
    sink = PostgresSink.from_url(db)
    sink.write(changed)
    sink.close()
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT title, record->>'title' FROM articles").fetchall() == [("Tiêu đề mới",) * 2]


def test_migrations_are_versioned_checked_and_idempotent(tmp_path, db, sample):
    with psycopg.connect(db, autocommit=True) as conn:
        assert migrate(conn) == [m.version for m in migrations()]
        assert migrate(conn) == []
        conn.execute(f"UPDATE {MIGRATIONS_TABLE} SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(SinkError, match="changed after it was applied"):
            migrate(conn)
        conn.execute(f"UPDATE {MIGRATIONS_TABLE} SET checksum = %s WHERE version = 1", (migrations()[0].checksum,))
        conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum) VALUES (999, 'future', 'x')")
        with pytest.raises(SinkError, match="newer than this vnsec"):
            migrate(conn)
    result = CliRunner().invoke(app, ["run", str(sample), "-o", str(tmp_path / "r.jsonl"), "--sink", db, "-q"])
    assert result.exit_code == 2 and "newer than this vnsec" in flat(result.output)


def test_a_constraint_error_rejects_only_the_records_at_fault(tmp_path, db, sample, articles):
    refused = articles[1]["id"]
    with psycopg.connect(db, autocommit=True) as conn:
        migrate(conn)
        conn.execute("ALTER TABLE articles ADD CONSTRAINT not_this_one CHECK (id <> %s)" % psycopg.sql.quote(refused))
    out = tmp_path / "records.jsonl"
    result = CliRunner().invoke(app, ["run", str(sample), "-o", str(out), "--sink", db + "?batch_size=8&retries=1",
                                      "-q", "--summary-json", str(tmp_path / "summary.json")])
    assert result.exit_code == 1, result.output
    [reject] = lines_of(tmp_path / "records.rejects.jsonl")
    assert reject["id"] == refused and reject["input"] == str(sample) and reject["line"] == 2
    assert reject["reason"].startswith("sink postgresql failed: CheckViolation") and "not_this_one" in reject["reason"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["articles"], summary["records"], summary["rejected"]) == (len(articles), len(articles) - 1, 1)
    assert summary["reject_reasons"] == {"sink postgresql failed": 1}
    assert list(summary["sink_failures"].values()) == [1]
    assert len(lines_of(out)) == len(articles)  # the record stays in the sinks that did store it
    with psycopg.connect(db) as conn:
        ids = {i for (i,) in conn.execute("SELECT id FROM articles")}
    assert ids == {a["id"] for a in articles} - {refused}


def _block(admin_dsn: str, name: str, allow: bool) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_server_gone_mid_run_retries_then_rejects_and_recovers(tmp_path, server, db, nlp, sample, articles):
    name = urlsplit(db).path.lstrip("/")
    out, rejects = tmp_path / "records.jsonl", tmp_path / "rejects.jsonl"
    sinks = [JsonlSink(out), open_sink(db + "?batch_size=5&retries=2&retry_backoff=0.01")]

    def weather(summary):  # the database goes away after article 10 and is back after article 17
        if summary.articles == 10:
            _block(server, name, allow=False)
        elif summary.articles == 17:
            _block(server, name, allow=True)

    summary = run_batch(read([str(sample)], max_chars=nlp.max_chars), nlp, sinks, RejectsFile(rejects),
                        on_item=weather)
    failed = lines_of(rejects)
    # Batches of 5 are flushed as articles 5, 10, 15... are written: the batch of articles 11-15
    # met the closed database (3 attempts), the batch of 16-20 the reopened one.
    assert [r["id"] for r in failed] == [a["id"] for a in articles[10:15]]
    assert all(r["reason"].startswith("sink postgresql failed: ") and "3 attempts" in r["reason"] for r in failed)
    assert [r["line"] for r in failed] == list(range(11, 16))
    assert summary.articles == summary.records + summary.rejected == len(articles)
    assert summary.rejected == 5 and summary.reasons == {"sink postgresql failed": 5}
    with psycopg.connect(db) as conn:
        stored = {i for (i,) in conn.execute("SELECT id FROM articles")}
    assert stored == {a["id"] for a in articles} - {r["id"] for r in failed}


def test_a_dropped_connection_is_retried_transparently(server, db, records):
    name = urlsplit(db).path.lstrip("/")
    sink = PostgresSink.from_url(db, batch_size=4, retries=2, retry_backoff=0.01)
    for record in records[:4]:
        sink.write(record)
    with psycopg.connect(server, autocommit=True) as admin:  # a server restart, as the client sees it
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    for record in records[4:12]:
        sink.write(record)
    sink.close()
    assert sink.failures() == [] and sink.written == 12
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 12


def test_unreachable_server_is_a_usage_error_and_passwords_stay_hidden(tmp_path, sample):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://vnsec:s3cret@127.0.0.1:{port}/vnsec?retries=0&connect_timeout=3"
    result = CliRunner().invoke(app, ["run", str(sample), "-o", str(tmp_path / "r.jsonl"), "--sink", url, "-q"])
    assert result.exit_code == 2
    assert "cannot open postgresql://vnsec:***@127.0.0.1" in flat(result.output)
    assert "s3cret" not in result.output
    assert not (tmp_path / "r.jsonl").exists()
    assert redact("postgresql://u:p@h:5/d?x=1") == "postgresql://u:***@h:5/d?x=1"
    dsn, options = split_options("postgres://u@h/d?batch_size=10&sslmode=disable&retry_backoff=0.5")
    assert dsn == "postgresql://u@h/d?sslmode=disable" and options == {"batch_size": 10, "retry_backoff": 0.5}
    with pytest.raises(ValueError, match="batch_size"):
        split_options("postgresql://h/d?batch_size=many")
