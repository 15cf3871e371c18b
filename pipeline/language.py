"""Assemble the stages named in ``configs/pipeline.toml`` and turn a ``Doc`` into a record."""
from __future__ import annotations

import hashlib
import time
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__
from .doc import Doc
from .registry import create
from .schema import Record

# Importing the stage modules registers their factories.
from . import classify, entities, normalize, percentages, segment  # noqa: F401,E402

from .paths import DEFAULT_CONFIG, PROJECT_ROOT  # noqa: F401 (PROJECT_ROOT is part of this module's API)

_META_SOURCE_KEYS = ("url", "published", "feed")


def article_id(text: str) -> str:
    """Stable id of an article without one: a hash of its normalised text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Pipeline:
    """The configured stages, run in order on one ``Doc``.

    >>> nlp = Pipeline.from_config()          # doctest: +SKIP
    >>> record = nlp.analyze("Tin tặc tấn công ...")   # doctest: +SKIP
    """

    def __init__(self, config: dict[str, Any], root: Path = PROJECT_ROOT):
        self.config = config
        self.root = root
        self.max_chars = int(config.get("limits", {}).get("max_chars", 1_000_000))
        self.stages = []
        for name in config["pipeline"]["stages"]:
            settings = dict(config.get("stages", {}).get(name, {}))
            self.stages.append((name, create(name, root=root, **settings)))
        self.models = {getattr(fn, "model_name"): getattr(fn, "model_version")
                       for _, fn in self.stages if hasattr(fn, "model_version")}
        # Seconds spent in each stage (and in building the record) since the last
        # take_stage_seconds(): two clock reads a stage, a few hundred nanoseconds an article.
        self.stage_seconds: dict[str, float] = dict.fromkeys([name for name, _ in self.stages] + ["record"], 0.0)

    def take_stage_seconds(self) -> dict[str, float]:
        """Seconds spent per stage since the last call, and reset them."""
        taken = self.stage_seconds
        self.stage_seconds = dict.fromkeys(taken, 0.0)
        return taken

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> "Pipeline":
        path = Path(path) if path else DEFAULT_CONFIG
        with open(path, "rb") as handle:
            return cls(tomllib.load(handle))

    def __call__(self, text: str, meta: dict[str, Any] | None = None) -> Doc:
        if len(text) > self.max_chars:
            raise ValueError(f"text is {len(text):,} characters, over the limit of {self.max_chars:,}")
        doc = Doc(raw=text, meta=dict(meta or {}))
        seconds = self.stage_seconds
        clock = time.perf_counter
        for name, run in self.stages:
            started = clock()
            doc = run(doc)
            seconds[name] += clock() - started
        return doc

    def record(self, doc: Doc) -> Record:
        started = time.perf_counter()
        try:
            return self._record(doc)
        finally:
            self.stage_seconds["record"] += time.perf_counter() - started

    def _record(self, doc: Doc) -> Record:
        meta = doc.meta
        source = dict(meta.get("source") or {}) if isinstance(meta.get("source"), dict) else {}
        if isinstance(meta.get("source"), str):
            source = {"name": meta["source"]}
        for key in _META_SOURCE_KEYS:
            if meta.get(key) is not None:
                source[key] = str(meta[key])
        known = {k: source.pop(k) for k in ("url", "published", "feed", "name") if k in source}
        title = meta.get("title")
        return Record(
            id=str(meta["id"]) if meta.get("id") not in (None, "") else article_id(doc.text),
            title=_title(title),
            text=doc.text,
            language=doc.language,
            flags=doc.flags,
            tokens=doc.segmented_text,
            sentences=[{"start": s, "end": e} for s, e in doc.sentences],
            percentages=doc.percentages,
            organizations=doc.organizations,
            people=doc.people,
            threat=doc.threat,
            source={**{k: (str(v) if v is not None else None) for k, v in known.items()}, "extra": source},
            pipeline={"version": __version__, "models": self.models},
        )

    def analyze(self, text: str, **meta: Any) -> Record:
        return self.record(self(text, meta))


def _title(title: Any) -> str | None:
    if title is None:
        return None
    return normalize.normalize(str(title)).text.replace("\n", " ") or None


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    return Pipeline.from_config()
