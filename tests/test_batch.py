"""Batch runs through the CLI: every input is a record or a reject, exit codes, determinism."""
import gzip
import json
import sqlite3

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

VI = ("Cảnh báo lừa đảo qua tin nhắn giả mạo ngân hàng\nCông an TP Hà Nội cho biết nhiều người dân "
      "nhận tin nhắn chứa đường link giả mạo, {n} người đã mất tiền trong tài khoản.")
EN = "Hackers breached the network of a large retailer and stole the card data of its customers."


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture()
def mixed(tmp_path):
    path = tmp_path / "mixed.jsonl"
    with path.open("wb") as out:
        out.write(json.dumps({"id": "a1", "text": VI.format(n=12), "title": "Cảnh báo"}, ensure_ascii=False).encode() + b"\n")
        out.write(b'{"id": "broken", "text": "thi\xe1\xba\xbfu ngo\n')            # invalid JSON
        out.write(json.dumps({"id": "no-text", "title": "Không có nội dung"}, ensure_ascii=False).encode() + b"\n")
        out.write(json.dumps({"id": "blank", "text": "   \n\t "}).encode() + b"\n")
        out.write(b'{"id": "latin1", "text": "Tin t\xe1c"}\n')                    # not UTF-8
        out.write(json.dumps({"id": "en", "text": EN}).encode() + b"\n")
        out.write(json.dumps({"id": "huge", "text": "Virus máy tính. " * 350_000}, ensure_ascii=False).encode() + b"\n")
        out.write(json.dumps({"id": "a1", "text": VI.format(n=13)}, ensure_ascii=False).encode() + b"\n")  # duplicate id
        out.write(json.dumps({"text": VI.format(n=14)}, ensure_ascii=False).encode() + b"\n")              # no id
        out.write(b"[1, 2, 3]\n")
    return path


def test_mixed_file_every_article_is_a_record_or_a_reject(tmp_path, mixed):
    out = tmp_path / "out" / "records.jsonl"
    result = CliRunner().invoke(app, ["run", str(mixed), "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output
    records = lines_of(out)
    rejects = lines_of(tmp_path / "out" / "records.rejects.jsonl")
    assert len(records) + len(rejects) == 10
    assert [r["id"] for r in records][:2] == ["a1", "en"]
    english = next(r for r in records if r["id"] == "en")
    assert english["language"] == "en" and "not_vietnamese" in english["flags"]
    no_id = records[-1]
    assert no_id["id"].startswith("sha256:")
    by_line = {r["line"]: r for r in rejects}
    assert "invalid JSON" in by_line[2]["reason"]
    assert "no `text`" in by_line[3]["reason"]
    assert "empty" in by_line[4]["reason"]
    assert "UTF-8" in by_line[5]["reason"]
    assert "over the limit" in by_line[7]["reason"]
    assert "duplicate id" in by_line[8]["reason"]
    assert "JSON object" in by_line[10]["reason"]
    assert all(r["input"] == str(mixed) for r in rejects)
    assert "rejected 7" in result.output


def test_directory_with_text_binary_and_gzip(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(VI.format(n=3), encoding="utf-8")
    (folder / "b.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "c.dat").write_bytes(b"\x00\x01\x02binary")
    with gzip.open(folder / "d.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "gz1", "text": VI.format(n=5)}, ensure_ascii=False) + "\n")
    out = tmp_path / "records.jsonl"
    result = CliRunner().invoke(app, ["run", str(folder), "-o", str(out), "-q"])
    assert result.exit_code == 1
    records, rejects = lines_of(out), lines_of(tmp_path / "records.rejects.jsonl")
    assert sorted(r["id"][:7] for r in records) == ["gz1", "sha256:"]
    assert len(rejects) == 2 and all("unsupported file type" in r["reason"] for r in rejects)


def test_stdin_and_exit_zero(tmp_path):
    out = tmp_path / "r.jsonl"
    data = json.dumps({"id": "s1", "text": VI.format(n=1), "url": "https://example.invalid/1",
                       "published": "2024-03-01"}, ensure_ascii=False) + "\n"
    result = CliRunner().invoke(app, ["run", "-", "-o", str(out), "-q"], input=data)
    assert result.exit_code == 0, result.output
    [record] = lines_of(out)
    assert record["source"]["url"] == "https://example.invalid/1"
    assert record["source"]["published"] == "2024-03-01"


def test_usage_error_exit_two(tmp_path):
    result = CliRunner().invoke(app, ["run", "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["run", "a.jsonl", "-o", str(tmp_path / "x.jsonl"), "--sink", "ftp://nowhere"])
    assert result.exit_code == 2


def test_rerun_is_identical_and_does_not_duplicate(tmp_path, mixed):
    out = tmp_path / "r.jsonl"
    db = tmp_path / "vnsec.db"
    args = ["run", str(mixed), "-o", str(out), "--sink", f"sqlite:///{db}", "-q"]
    CliRunner().invoke(app, args)
    first = out.read_bytes()
    CliRunner().invoke(app, args)
    assert out.read_bytes() == first
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(first.splitlines())
        assert conn.execute("SELECT count(DISTINCT id) FROM articles").fetchone()[0] == len(first.splitlines())
