"""Parallel runs: --workers N gives the same records, in the same order, as one worker; the
ordered map reads only a bounded window ahead (memory stays flat); progress lines."""
import io
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from typer.testing import CliRunner

from _corpus_articles import articles, write_jsonl
from pipeline.cli import app
from pipeline.engines import Engine, Outcome
from pipeline.ingest import Item
from pipeline.progress import Progress


class SlowThreads(Engine):
    """Chunks finish out of order (random delays); the engine must still yield in order."""

    def __init__(self, chunk_size, window):
        super().__init__()
        self.chunk_size, self.window = chunk_size, window
        self.pool = ThreadPoolExecutor(4)
        self.rng = random.Random(3)

    def _submit(self, items):
        delay = self.rng.random() / 200
        return self.pool.submit(lambda: (time.sleep(delay) or [Outcome(id=i.article["id"]) for i in items], {"x": 1.0}))

    def _result(self, handle):
        return handle.result()


def test_ordered_map_keeps_order_and_reads_a_bounded_window_ahead():
    engine = SlowThreads(chunk_size=4, window=3)
    read = 0

    def work():
        nonlocal read
        for n in range(500):
            read += 1
            item = Item("in", n + 1, article={"id": str(n), "text": "x"})
            yield item, n % 7 != 0  # every 7th item has nothing to analyse

    seen = []
    for item, outcome in engine.map(work()):
        # never more than (window + 1) chunks read beyond the item being handed out
        assert read - len(seen) <= (engine.window + 1) * engine.chunk_size
        assert (outcome is None) == (int(item.article["id"]) % 7 == 0)
        assert outcome is None or outcome.id == item.article["id"]
        seen.append(int(item.article["id"]))
    assert seen == list(range(500))
    assert engine.take_stage_seconds()["x"] > 0


def test_two_workers_same_records_same_order_as_one(tmp_path):
    rows = articles(60, seed=11)
    rows[20]["id"] = rows[5]["id"]  # a duplicate id: the later copy is rejected, whatever the worker
    rows[33] = {"id": "trống", "text": "   "}
    source = write_jsonl(tmp_path / "in.jsonl", rows, extra_lines={40: b'{"id": "hong", "text": '})
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}" / "records.jsonl"
        summary = tmp_path / f"w{workers}" / "summary.json"
        result = CliRunner().invoke(app, ["run", str(source), "-o", str(out), "-q", "--workers", str(workers),
                                          "--summary-json", str(summary)])
        assert result.exit_code == 1, result.output
        outputs[workers] = (out.read_bytes(), (out.parent / "records.rejects.jsonl").read_bytes(),
                            json.loads(summary.read_text(encoding="utf-8")))
    (records1, rejects1, stats1), (records2, rejects2, stats2) = outputs[1], outputs[2]
    assert records1 == records2 and rejects1 == rejects2
    assert stats1["articles"] == stats2["articles"] == 61
    assert stats2["records"] == 58 and stats2["rejected"] == 3 and stats2["workers"] == 2
    ids = [json.loads(line)["id"] for line in records2.splitlines()]
    assert ids == [r["id"] for i, r in enumerate(rows) if i not in (20, 33)]
    assert set(stats2["stage_seconds"]) >= {"segment", "entities", "classify"}


def test_progress_log_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress("log", console=None, count=lambda: 200, every=0.0, stream=stream)
    time.sleep(0.05)  # the total is counted in a thread
    progress(SimpleNamespace(articles=50, records=48, rejected=2, seconds=10.0))
    line = stream.getvalue().strip()
    assert line.startswith("vnsec run: 50/200 (25.0%) articles, 48 records, 2 rejected, 5.0 articles/s")
    assert "ETA 30s" in line
