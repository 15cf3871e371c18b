"""``vnsec run`` end to end: inputs, engine, sinks, checkpoints, progress and the summary.

The command (:func:`pipeline.cli.run`) only parses options; everything else is here so that a
benchmark or a test can run it the same way.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from . import __version__

from .paths import DEFAULT_CONFIG, PROJECT_ROOT

EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    def __init__(self, message: str, param_hint: str):
        super().__init__(message)
        self.param_hint = param_hint


@dataclass
class RunOptions:
    inputs: list[str]
    out: Path
    rejects: Path | None = None
    sinks: tuple[str, ...] = ()
    config: Path | None = None
    summary_json: Path | None = None
    quiet: bool = False
    workers: int = 1
    engine: str = "local"
    scheduler: str | None = None
    resume: bool = True
    checkpoint_every: float = 2.0
    log_every: float = 10.0
    progress: str | None = None  # bar, log or none; default: bar on a terminal, else log


def _jsonl_path(url: str) -> str | None:
    """The file of a JSONL sink URL (``jsonl:PATH`` or a bare path), else None."""
    if url.startswith("jsonl:"):
        return url[len("jsonl:"):]
    return None if "://" in url or ":" in url.split("/", 1)[0] else url


def _fingerprint(options: RunOptions, config_path: Path, rejects_path: Path) -> str:
    from .resume import file_stamp, fingerprint, tree_stamp

    return fingerprint(
        vnsec=__version__,
        inputs=[[entry, os.path.abspath(entry) if entry != "-" else "-", file_stamp(entry)] for entry in options.inputs],
        config=hashlib.sha256(config_path.read_bytes()).hexdigest(),
        models=tree_stamp(PROJECT_ROOT / "models"),
        out=os.path.abspath(options.out), rejects=os.path.abspath(rejects_path), sinks=list(options.sinks),
    )


def _partial(path: str | Path) -> str:
    return os.path.abspath(path) + ".partial"


def run_command(options: RunOptions, console: Console) -> int:
    """Run a batch as ``vnsec run`` does; the exit status (0, 1, or 130 when interrupted)."""
    from .batch import default_rejects_path, run as run_batch
    from .emit import JsonlSink, RejectsFile, SinkError, open_sink
    from .engines import make_engine
    from .ingest import count, read
    from .progress import Progress
    from .resume import Journal

    if options.workers < 1:
        raise UsageError("must be at least 1", "--workers")
    if options.engine not in ("local", "dask"):
        raise UsageError(f"unknown engine {options.engine!r}: use local or dask", "--engine")
    if options.scheduler and options.engine != "dask":
        raise UsageError("--scheduler needs --engine dask", "--scheduler")
    config_path = Path(options.config) if options.config else DEFAULT_CONFIG
    try:
        with open(config_path, "rb") as handle:
            max_chars = int(tomllib.load(handle).get("limits", {}).get("max_chars", 1_000_000))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read {config_path}: {error}", "--config") from None
    rejects_path = options.rejects or default_rejects_path(options.out)

    journal, point = None, None
    # stdin cannot be read again, nor checked to be the same data: such a run is not resumable
    if options.resume and "-" not in options.inputs:
        journal = Journal(options.out, _fingerprint(options, config_path, rejects_path),
                          every_seconds=options.checkpoint_every)
        point = journal.load()
        if journal.ignored:
            console.print(f"[yellow]{journal.ignored}[/yellow]")
    else:  # a fresh start: any earlier checkpoint no longer describes the partial files
        for suffix in (".state", ".seen"):
            Path(os.path.abspath(options.out) + suffix).unlink(missing_ok=True)
    resume_at = (lambda path: point.files.get(_partial(path))) if point else (lambda path: None)

    sinks: list[Any] = []
    rejects_file = None
    try:
        sinks.append(JsonlSink(options.out, resume_at=resume_at(options.out)))
        for url in options.sinks:
            path = _jsonl_path(url)
            sinks.append(JsonlSink(path, resume_at=resume_at(path)) if path else open_sink(url, config=options.config))
        rejects_file = RejectsFile(rejects_path, resume_at=resume_at(rejects_path))
    except (ValueError, SinkError, RuntimeError) as error:
        for opened in sinks:
            (getattr(opened, "suspend", opened.abort) if point is not None else opened.abort)()
        raise UsageError(str(error), "--sink" if sinks else "--out") from None
    if point is not None:
        console.print(f"resuming: {point.consumed:,} articles already done "
                      f"({point.summary.get('records', 0):,} records, {point.summary.get('rejected', 0):,} rejected)")
        for sink in sinks:
            if not hasattr(sink, "partial") and not sink.url.startswith(("sqlite:", "postgres")):
                console.print(f"[yellow]sink {sink.url} restarts at the checkpoint: it holds only the records "
                              "of this resumed part[/yellow]")

    def release() -> None:
        """Close the outputs of a run that did not get going (kept for a resume if there is one)."""
        for sink in sinks:
            (getattr(sink, "suspend", sink.abort) if point is not None else sink.abort)()
        (rejects_file.suspend if point is not None else rejects_file.abort)()

    mode = options.progress or ("none" if options.quiet else "bar" if console.is_terminal else "log")
    progress = Progress(mode, console, count=(lambda: count(options.inputs)), every=options.log_every,
                        start_at=point.consumed if point else 0)
    engine = None
    try:
        try:
            try:
                engine = make_engine(options.engine, options.workers, config=options.config,
                                     scheduler=options.scheduler)
            except BaseException:
                release()
                raise
            items = read(options.inputs, max_chars=max_chars)
            summary = run_batch(items, None, sinks, rejects_file, on_item=progress, engine=engine,
                                journal=journal, resume=point)
        finally:
            progress.stop()
            if engine is not None:
                engine.close()
    except KeyboardInterrupt:
        if journal is not None:
            console.print("interrupted: the run is checkpointed; run the same command again to resume")
        else:
            console.print("interrupted")
        return EXIT_INTERRUPTED

    result = summary.as_dict() | {"out": str(options.out), "rejects": str(rejects_path),
                                  "sinks": [s.url for s in sinks]}
    if mode == "log":
        progress.log(summary)
    console.print(
        f"articles {summary.articles}  records {summary.records}  rejected {summary.rejected}  "
        f"time {summary.seconds:.1f}s  {summary.per_second:.1f} articles/s"
        + (f"  (resumed after {summary.resumed_from})" if summary.resumed_from else "")
    )
    if summary.rejected:
        console.print(f"rejects written to {rejects_path}: " + ", ".join(f"{k} {v}" for k, v in summary.reasons.items()))
    for url, failed in summary.sink_failures.items():
        console.print(f"sink {url}: {failed} records not stored (in the rejects)")
    if options.summary_json:
        Path(options.summary_json).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if summary.rejected else 0
