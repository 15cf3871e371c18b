"""Batch runs: inputs -> pipeline -> sinks, with rejects and a summary.

Articles in = records out + rejects, always: every item from :mod:`pipeline.ingest` becomes
either a record written to every sink or a :class:`~pipeline.schema.Reject` with its reason.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .emit import RejectsFile, Sink
from .ingest import Item
from .language import Pipeline
from .schema import Reject


@dataclass
class Summary:
    articles: int = 0
    records: int = 0
    rejected: int = 0
    seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)
    stage_seconds: Counter = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"articles": self.articles, "records": self.records, "rejected": self.rejected,
                "seconds": round(self.seconds, 3), "articles_per_second": round(self.per_second, 2),
                "reject_reasons": dict(self.reasons.most_common())}


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].split(",", 1)[0]


def run(items: Iterable[Item], nlp: Pipeline, sinks: list[Sink], rejects: RejectsFile,
        on_item: Callable[[Summary], None] | None = None) -> Summary:
    """Analyse every item, write records to ``sinks`` and failures to ``rejects``.

    A duplicate ``id`` within the run is rejected (the first one wins), so no sink ever sees the
    same article twice. Sinks and the rejects file are closed (committed) at the end; on an
    exception they are aborted and the exception propagates.
    """
    summary = Summary()
    seen: set[str] = set()
    started = time.perf_counter()

    def reject(item: Item, reason: str, article_id_: str | None = None) -> None:
        summary.rejected += 1
        summary.reasons[_reason_kind(reason)] += 1
        rejects.write(Reject(input=item.input, line=item.line, id=article_id_, reason=reason))

    try:
        for item in items:
            summary.articles += 1
            if item.error is not None:
                reject(item, item.error)
            else:
                article = item.article or {}
                meta = {k: v for k, v in article.items() if k != "text"}
                try:
                    doc = nlp(article["text"], meta)
                    record = nlp.record(doc)
                except Exception as error:  # one bad article must not stop the batch
                    given = article.get("id")
                    rid = str(given) if given not in (None, "") else None
                    reject(item, f"analysis failed: {type(error).__name__}: {error}", rid)
                else:
                    if record.id in seen:
                        reject(item, f"duplicate id {record.id!r} (already analysed in this run)", record.id)
                    else:
                        seen.add(record.id)
                        for sink in sinks:
                            sink.write(record)
                        summary.records += 1
            if on_item is not None:
                summary.seconds = time.perf_counter() - started
                on_item(summary)
    except BaseException:
        for sink in sinks:
            sink.abort()
        rejects.abort()
        raise
    for sink in sinks:
        sink.close()
    rejects.close()
    summary.seconds = time.perf_counter() - started
    return summary


def default_rejects_path(out: str | Path) -> Path:
    """``out/records.jsonl`` -> ``out/records.rejects.jsonl``."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(f"{stem}.rejects.jsonl")

