"""Batch runs: inputs -> pipeline -> sinks, with rejects and a summary.

Articles in = records out + rejects, always: every item from :mod:`pipeline.ingest` becomes
either a record written to every sink or a :class:`~pipeline.schema.Reject` with its reason.

A record that a sink could not store (reported by ``Sink.failures()`` after the sink's own
retries) counts as rejected, not as a record: it gets one reject line, after the others, whose
reason joins each failing sink's (``sink postgresql failed: ...``). It stays in the sinks that did
store it; ``Summary.sink_failures`` counts the failures per sink URL.

The analysis itself runs on an engine (:mod:`pipeline.engines`: this process, local worker
processes or a Dask cluster) that gives the outcomes back in input order, so records and rejects
are written in input order whatever the engine. With a :class:`~pipeline.resume.Journal` the run
checkpoints as it goes and an interrupted run resumes where it stopped (:mod:`pipeline.resume`).
"""
from __future__ import annotations

import re
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .emit import RejectsFile, Sink, SinkFailure
from .engines import Engine, InProcessEngine
from .ingest import Item
from .resume import Journal, ResumePoint, digest
from .schema import Reject

if TYPE_CHECKING:
    from .language import Pipeline

# Sink failures are reported by id, after the sink's batch is flushed; the input and line of
# that many recent records are kept to name them in the reject (memory stays bounded).
_ORIGINS_KEPT = 100_000


@dataclass
class Summary:
    articles: int = 0
    records: int = 0
    rejected: int = 0
    seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)
    stage_seconds: Counter = field(default_factory=Counter)
    sink_failures: Counter = field(default_factory=Counter)
    resumed_from: int = 0  # items already done by the interrupted run(s) this one continued
    engine: str = "local"
    workers: int = 1

    @property
    def per_second(self) -> float:
        """Articles a second in this run (not counting the ones a resumed run skipped)."""
        return (self.articles - self.resumed_from) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"articles": self.articles, "records": self.records, "rejected": self.rejected,
                "seconds": round(self.seconds, 3), "articles_per_second": round(self.per_second, 2),
                "reject_reasons": dict(self.reasons.most_common()),
                "sink_failures": dict(self.sink_failures),
                "resumed_from": self.resumed_from, "engine": self.engine, "workers": self.workers,
                # seconds of analysis per stage, summed over the workers
                "stage_seconds": {name: round(value, 3) for name, value in self.stage_seconds.items()}}


_REASON_END = re.compile(r"[:,']| \(")


def _reason_kind(reason: str) -> str:
    """The kind of a reject reason, for the summary: ``duplicate id``, ``invalid JSON``..."""
    return _REASON_END.split(reason, 1)[0].strip()


def _sink_failures(sink: Sink) -> list[SinkFailure]:
    failures = getattr(sink, "failures", None)
    return failures() if failures is not None else []


def _given_id(item: Item) -> str | None:
    given = (item.article or {}).get("id")
    return str(given) if given not in (None, "") else None


def run(items: Iterable[Item], nlp: Pipeline | None, sinks: list[Sink], rejects: RejectsFile,
        on_item: Callable[[Summary], None] | None = None, *, engine: Engine | None = None,
        journal: Journal | None = None, resume: ResumePoint | None = None) -> Summary:
    """Analyse every item, write records to ``sinks`` and failures to ``rejects``.

    A duplicate ``id`` within the run is rejected (the first one wins), so no sink ever sees the
    same article twice; an item whose own id is already recorded is not even analysed.
    ``engine`` analyses the articles (default: ``nlp`` in this process). Sinks and the rejects
    file are closed (committed) at the end. On an exception (Ctrl-C included) they are aborted
    and the exception propagates; with a ``journal``, a checkpoint is committed instead and the
    partial files are kept, for a restart to ``resume`` from.
    """
    if engine is None:
        if nlp is None:
            raise ValueError("run() needs a pipeline or an engine")
        engine = InProcessEngine(nlp)
    summary = Summary(engine=engine.name, workers=engine.workers)
    failed: dict[str, list] = {}  # record id -> [input, line, reasons of each failing sink]
    origins: OrderedDict[str, tuple[str, int | None]] = OrderedDict()
    previous_seconds = 0.0
    if resume is not None:
        saved = resume.summary
        summary.articles = summary.resumed_from = resume.consumed
        summary.records, summary.rejected = int(saved.get("records", 0)), int(saved.get("rejected", 0))
        summary.reasons.update(saved.get("reasons", {}))
        summary.sink_failures.update(saved.get("sink_failures", {}))
        summary.stage_seconds.update(saved.get("stage_seconds", {}))
        previous_seconds = float(saved.get("seconds", 0.0))
        failed.update({rid: [source, line, list(reasons)] for rid, source, line, reasons in saved.get("failed", [])})
        items = islice(items, resume.consumed, None)  # read and skip what is already written
    engine.take_stage_seconds()  # count this run's time only
    files = [f for f in [*sinks, rejects] if hasattr(f, "partial") and hasattr(f, "sync")]
    seen: set[int] = journal.start(files, resume) if journal is not None else set()
    started = time.perf_counter()

    def reject(item: Item, reason: str, article_id_: str | None = None) -> None:
        summary.rejected += 1
        summary.reasons[_reason_kind(reason)] += 1
        rejects.write(Reject(input=item.input, line=item.line, id=article_id_, reason=reason))

    def collect_failures(sink: Sink) -> None:
        for failure in _sink_failures(sink):
            summary.sink_failures[sink.url] += 1
            if failure.id not in failed:
                summary.records -= 1
                summary.rejected += 1
                failed[failure.id] = [*origins.get(failure.id, ("", None)), []]
            failed[failure.id][2].append(failure.reason)

    def counters() -> dict[str, Any]:
        return {"records": summary.records, "rejected": summary.rejected, "reasons": dict(summary.reasons),
                "sink_failures": dict(summary.sink_failures),
                "failed": [[rid, *entry[:2], list(entry[2])] for rid, entry in failed.items()] if failed else []}

    def extra() -> dict[str, Any]:
        summary.stage_seconds.update(engine.take_stage_seconds())
        return {"stage_seconds": dict(summary.stage_seconds),
                "seconds": previous_seconds + time.perf_counter() - started}

    if journal is not None:
        journal.extra = extra

    def work() -> Iterator[tuple[Item, bool]]:
        for item in items:
            todo = item.error is None
            if todo and item.article is not None:
                given = _given_id(item)
                todo = given is None or digest(given) not in seen
            yield item, todo

    try:
        for item, outcome in engine.map(work()):
            summary.articles += 1
            if item.error is not None:
                reject(item, item.error)
            elif outcome is None:  # its own id is already recorded: a duplicate, not analysed
                rid = _given_id(item)
                reject(item, f"duplicate id {rid!r} (already analysed in this run)", rid)
            elif outcome.error is not None:
                reject(item, outcome.error, outcome.id)
            else:
                key = digest(outcome.id)
                if key in seen:
                    reject(item, f"duplicate id {outcome.id!r} (already analysed in this run)", outcome.id)
                else:
                    record = outcome.to_record()
                    seen.add(key)
                    origins[record.id] = (item.input, item.line)
                    if len(origins) > _ORIGINS_KEPT:
                        origins.popitem(last=False)
                    summary.records += 1
                    if journal is not None:
                        journal.note_record(key)
                    for sink in sinks:
                        sink.write(record)
                        collect_failures(sink)
            if journal is not None:
                journal.done(summary.articles, counters())
            if on_item is not None:
                summary.seconds = time.perf_counter() - started
                on_item(summary)
    except BaseException:
        summary.seconds = time.perf_counter() - started
        if journal is None:
            for sink in sinks:
                sink.abort()
            rejects.abort()
            raise
        try:
            journal.checkpoint()
        finally:
            for sink in sinks:
                (getattr(sink, "suspend", None) or sink.abort)()
            rejects.suspend()
            journal.close()
        raise
    try:
        for sink in sinks:
            sink.close()
            collect_failures(sink)
        for record_id, (source, line, reasons) in failed.items():
            summary.reasons[_reason_kind(reasons[0])] += 1
            rejects.write(Reject(input=source, line=line, id=record_id, reason="; ".join(reasons)))
    except BaseException:
        rejects.abort()
        raise
    rejects.close()
    if journal is not None:
        journal.finish()
    summary.stage_seconds.update(engine.take_stage_seconds())
    summary.seconds = time.perf_counter() - started
    return summary


def default_rejects_path(out: str | Path) -> Path:
    """``out/records.jsonl`` -> ``out/records.rejects.jsonl``."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(f"{stem}.rejects.jsonl")
