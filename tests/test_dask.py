"""The Dask engine: the same records, in the same order, as the local engine, on a real
dask.distributed cluster of two worker processes (ours, or one the command points at)."""
import json

import pytest
from typer.testing import CliRunner

from _corpus_articles import articles, write_jsonl
from pipeline.cli import app

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_dask_cluster_gives_the_local_records_in_order(tmp_path):
    rows = articles(40, seed=21, max_sentences=2)
    rows[30]["id"] = rows[3]["id"]  # a duplicate: rejected whichever worker analysed it
    source = write_jsonl(tmp_path / "in.jsonl", rows, extra_lines={12: b"[1, 2]"})
    local = tmp_path / "local.jsonl"
    result = CliRunner().invoke(app, ["run", str(source), "-o", str(local), "-q"])
    assert result.exit_code == 1, result.output

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "dask.jsonl"
        summary = tmp_path / "summary.json"
        result = CliRunner().invoke(app, ["run", str(source), "-o", str(out), "-q", "--engine", "dask",
                                          "--scheduler", cluster.scheduler_address, "--summary-json", str(summary)])
        assert result.exit_code == 1, result.output
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
    assert out.read_bytes() == local.read_bytes()
    assert out.with_name("dask.rejects.jsonl").read_bytes() == local.with_name("local.rejects.jsonl").read_bytes()
    stats = json.loads(summary.read_text(encoding="utf-8"))
    assert stats["engine"] == "dask" and stats["workers"] == 2
    assert stats["articles"] == 41 and stats["records"] == 39 and stats["rejected"] == 2
    assert stats["stage_seconds"]["segment"] > 0


def test_scheduler_needs_the_dask_engine(tmp_path):
    result = CliRunner().invoke(app, ["run", "x.jsonl", "-o", str(tmp_path / "o.jsonl"), "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2 and "--engine dask" in result.output
