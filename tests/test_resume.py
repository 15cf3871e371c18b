"""Resumable runs: a real `vnsec run` killed part-way (SIGKILL, then Ctrl-C) and started again
with the same command ends with every article exactly once, byte for byte the output of an
uninterrupted run."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _corpus_articles import articles, write_jsonl
from pipeline.cli import app

VNSEC = Path(sys.executable).with_name("vnsec")


def command(source, out, *extra):
    return [str(VNSEC), "run", str(source), "-o", str(out), "--checkpoint-every", "0.2", "--log-every", "0.5", *extra]


def state_of(out):
    try:
        return json.loads(Path(str(out) + ".state").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def run_until(cmd, out, consumed, sig, timeout=120):
    """Start ``cmd``, wait for a checkpoint past ``consumed`` items, send ``sig``; its exit code."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            state = state_of(out)
            if state and state["consumed"] >= consumed:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("no checkpoint in time")
        time.sleep(0.3)  # let it write past the checkpoint: the resume must drop that tail
        process.send_signal(sig)
        process.wait(timeout=60)
        return process.returncode
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


@pytest.mark.slow
def test_killed_and_interrupted_run_resumes_to_identical_output(tmp_path):
    # Enough articles that the resumed run is still busy when the Ctrl-C comes.
    rows = articles(720, seed=7, max_sentences=2)
    rows[150]["id"] = rows[10]["id"]  # duplicates across the interruption points
    rows[220]["id"] = rows[100]["id"]
    source = write_jsonl(tmp_path / "in.jsonl", rows, extra_lines={90: b"not json", 200: b'{"text": ""}'})
    reference = tmp_path / "ref" / "records.jsonl"  # the uninterrupted run
    assert CliRunner().invoke(app, ["run", str(source), "-o", str(reference), "-q"]).exit_code == 1
    out = tmp_path / "run" / "records.jsonl"

    code = run_until(command(source, out), out, 50, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert not out.exists() and Path(str(out) + ".partial").exists()
    first_stop = state_of(out)["consumed"]

    # resumed with two workers this time: same records either way; then Ctrl-C
    code = run_until(command(source, out, "--workers", "2"), out, first_stop + 50, signal.SIGINT)
    assert code == 130
    assert state_of(out)["consumed"] > first_stop and not out.exists()

    finished = subprocess.run(command(source, out, "--summary-json", str(tmp_path / "summary.json")),
                              capture_output=True, timeout=300)
    assert finished.returncode == 1, finished.stderr.decode()  # 1: the bad lines and duplicates are rejects
    assert b"resuming:" in finished.stderr
    assert out.read_bytes() == reference.read_bytes()
    rejects = out.with_name("records.rejects.jsonl")
    assert rejects.read_bytes() == reference.with_name("records.rejects.jsonl").read_bytes()
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 718  # 720 articles less the two duplicates
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 4
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["articles"] == 722 and summary["records"] == 718 and summary["rejected"] == 4
    assert summary["resumed_from"] > first_stop
    leftovers = sorted(p.name for p in out.parent.iterdir())
    assert leftovers == ["records.jsonl", "records.rejects.jsonl"]


def test_checkpoint_of_another_run_is_ignored_and_no_resume_starts_afresh(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", articles(3, seed=2))
    out = tmp_path / "records.jsonl"
    Path(str(out) + ".state").write_text(json.dumps({"version": 1, "fingerprint": "other", "consumed": 2,
                                                     "files": {}, "seen_bytes": 0}), encoding="utf-8")
    Path(str(out) + ".partial").write_text("garbage\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "different run" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert not Path(str(out) + ".state").exists() and not Path(str(out) + ".partial").exists()
    first = out.read_bytes()
    result = CliRunner().invoke(app, ["run", str(source), "-o", str(out), "-q", "--no-resume"])
    assert result.exit_code == 0 and out.read_bytes() == first


def test_two_runs_cannot_write_the_same_output(tmp_path):
    from pipeline.emit import JsonlSink

    out = tmp_path / "records.jsonl"
    holder = JsonlSink(out)
    try:
        result = CliRunner().invoke(app, ["run", str(write_jsonl(tmp_path / "in.jsonl", articles(1))), "-o", str(out), "-q"])
        assert result.exit_code == 2 and "another run" in result.output
    finally:
        holder.abort()
