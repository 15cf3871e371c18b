"""The README's main job, end to end, on the bundled sample."""
import json
import sqlite3

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.language import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "corpora" / "samples" / "articles.jsonl"


def test_sample_run_to_jsonl_and_sqlite(tmp_path):
    out, db = tmp_path / "records.jsonl", tmp_path / "vnsec.db"
    result = CliRunner().invoke(app, ["run", str(SAMPLE), "-o", str(out), "--sink", f"sqlite:///{db}", "-q"])
    assert result.exit_code == 0, result.output
    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [a["id"] for a in articles]
    for record in records:
        assert record["tokens"] and record["sentences"]
        for p in record["percentages"]:
            assert record["text"][p["start"]:p["end"]] == p["text"]
        for entity in record["organizations"] + record["people"]:
            for m in entity["mentions"]:
                assert record["text"][m["start"]:m["end"]] == m["text"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(articles)
        security = conn.execute("SELECT count(*) FROM articles WHERE is_security = 1").fetchone()[0]
        assert 0 < security < len(articles)
        assert conn.execute("SELECT count(*) FROM articles_by_category").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM articles_by_organization").fetchone()[0] > 0


def test_analyze_api_matches_the_cli(tmp_path):
    from pipeline import analyze

    article = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    record = analyze(article["text"], **{k: v for k, v in article.items() if k != "text"})
    out = tmp_path / "one.jsonl"
    (tmp_path / "one_in.jsonl").write_text(json.dumps(article, ensure_ascii=False) + "\n", encoding="utf-8")
    CliRunner().invoke(app, ["run", str(tmp_path / "one_in.jsonl"), "-o", str(out), "-q"])
    assert out.read_text(encoding="utf-8").strip() == record.model_dump_json()
