"""Where articles are analysed: in this process, in a pool of local worker processes, or on a
Dask distributed cluster. Every engine returns the outcomes in input order, so the records of a
run are the same, in the same order, whatever the engine and the number of workers.

An engine maps a stream of ``(item, todo)`` pairs to ``(item, outcome)`` pairs, in order.
``outcome`` is None when ``todo`` is false (an input error or a known duplicate: nothing to
analyse). The stream is consumed lazily, a bounded number of chunks ahead of the results being
read, so memory stays flat whatever the input size (``multiprocessing.Pool.imap`` would read the
whole input ahead of the workers).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .ingest import Item, extract_html
from .schema import Record

if TYPE_CHECKING:  # the pipeline (underthesea, scikit-learn) is loaded only where articles are analysed
    from .language import Pipeline

from .paths import DEFAULT_CONFIG


@dataclass(slots=True)
class Outcome:
    """What analysing one item gave: a record (``record``, or its JSON line ``json`` when it
    crossed a process boundary) or an ``error`` (with the article's own ``id`` if it had one)."""

    record: Record | None = None
    json: str | None = None
    id: str | None = None
    error: str | None = None

    def to_record(self) -> Record:
        if self.record is None:
            self.record = Record.model_validate_json(self.json)
        return self.record


def analyze_item(nlp: Pipeline, item: Item, as_json: bool = False) -> Outcome:
    """Analyse one item; one bad article gives an error outcome, never an exception."""
    if item.html is not None:
        item = extract_html(item, nlp.max_chars)
        if item.error is not None:
            return Outcome(error=item.error)
    article = item.article or {}
    meta = {k: v for k, v in article.items() if k != "text"}
    try:
        doc = nlp(article["text"], meta)
        record = nlp.record(doc)
    except Exception as error:  # one bad article must not stop the batch
        given = article.get("id")
        return Outcome(id=str(given) if given not in (None, "") else None,
                       error=f"analysis failed: {type(error).__name__}: {error}")
    if as_json:
        return Outcome(json=record.model_dump_json(), id=record.id)
    return Outcome(record=record, id=record.id)


def analyze_chunk(nlp: Pipeline, items: list[Item]) -> tuple[list[Outcome], dict[str, float]]:
    """Outcomes of a chunk (records as JSON lines, for another process) and the seconds spent
    in each stage on it."""
    outcomes = [analyze_item(nlp, item, as_json=True) for item in items]
    return outcomes, nlp.take_stage_seconds()


def _chunks(pairs: Iterable[tuple[Item, bool]], size: int) -> Iterator[list[tuple[Item, bool]]]:
    iterator = iter(pairs)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Engine:
    """Base of the engines: ordered, bounded, chunked map over the work of a run."""

    name = "local"
    workers = 1
    chunk_size = 1
    window = 1  # chunks submitted ahead of the one being read

    def __init__(self) -> None:
        self.stage_seconds: dict[str, float] = {}

    def _submit(self, items: list[Item]) -> Any:
        raise NotImplementedError

    def _result(self, handle: Any) -> tuple[list[Outcome], dict[str, float]]:
        raise NotImplementedError

    def _add_seconds(self, seconds: dict[str, float]) -> None:
        for name, value in seconds.items():
            self.stage_seconds[name] = self.stage_seconds.get(name, 0.0) + value

    def take_stage_seconds(self) -> dict[str, float]:
        taken, self.stage_seconds = self.stage_seconds, {}
        return taken

    def map(self, pairs: Iterable[tuple[Item, bool]]) -> Iterator[tuple[Item, Outcome | None]]:
        pending: deque = deque()
        for chunk in _chunks(pairs, self.chunk_size):
            work = [item for item, todo in chunk if todo]
            pending.append((chunk, self._submit(work) if work else None))
            while len(pending) > self.window:
                yield from self._drain(*pending.popleft())
        while pending:
            yield from self._drain(*pending.popleft())

    def _drain(self, chunk: list[tuple[Item, bool]], handle: Any) -> Iterator[tuple[Item, Outcome | None]]:
        outcomes: list[Outcome] = []
        if handle is not None:
            outcomes, seconds = self._result(handle)
            self._add_seconds(seconds)
        results = iter(outcomes)
        for item, todo in chunk:
            yield item, (next(results) if todo else None)

    def close(self) -> None:
        pass

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class InProcessEngine(Engine):
    """One worker: this process, one article at a time."""

    def __init__(self, nlp: Pipeline):
        super().__init__()
        self.nlp = nlp

    def map(self, pairs: Iterable[tuple[Item, bool]]) -> Iterator[tuple[Item, Outcome | None]]:
        nlp = self.nlp
        for item, todo in pairs:
            yield item, (analyze_item(nlp, item) if todo else None)

    def take_stage_seconds(self) -> dict[str, float]:
        return self.nlp.take_stage_seconds()


# --- local worker processes ------------------------------------------------------------------

_WORKER_NLP: Pipeline | None = None


def _init_worker(config: str | None) -> None:
    """Run once in each worker process: load the pipeline (models, gazetteers) once."""
    global _WORKER_NLP
    from .language import Pipeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:  # one core a worker: BLAS/OpenMP thread pools of their own would oversubscribe the machine
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _WORKER_NLP = Pipeline.from_config(config)


def _worker_chunk(items: list[Item]) -> tuple[list[Outcome], dict[str, float]]:
    assert _WORKER_NLP is not None, "worker not initialised"
    return analyze_chunk(_WORKER_NLP, items)


def _worker_ready() -> int:
    return os.getpid()


class ProcessEngine(Engine):
    """``workers`` local processes (``spawn``ed, each loading the pipeline once in its
    initialiser), fed chunks of ``chunk_size`` articles, at most ``window`` chunks ahead."""

    name = "local"

    def __init__(self, workers: int, config: str | Path | None = None, chunk_size: int = 8,
                 window: int | None = None):
        super().__init__()
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.chunk_size = chunk_size
        self.window = window or 3 * workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(str(config) if config else None,))

    def start(self) -> None:
        """Wait until every worker has loaded the pipeline (for timing runs)."""
        futures = [self._pool.submit(_worker_ready) for _ in range(self.workers * 2)]
        for future in futures:
            future.result()

    def _submit(self, items: list[Item]) -> Any:
        return self._pool.submit(_worker_chunk, items)

    def _result(self, handle: Any) -> tuple[list[Outcome], dict[str, float]]:
        return handle.result()

    def close(self) -> None:
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # chunks still running are not waited for
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)


# --- Dask distributed ------------------------------------------------------------------------

_DASK_PIPELINES: dict[str, Pipeline] = {}
_DASK_LOCK = threading.Lock()


def _dask_pipeline(config_text: str) -> Pipeline:
    """The pipeline of this Dask worker process for a config, loaded on its first task."""
    from .language import Pipeline

    key = hashlib.sha256(config_text.encode("utf-8")).hexdigest()
    with _DASK_LOCK:
        if key not in _DASK_PIPELINES:
            _DASK_PIPELINES[key] = Pipeline(json.loads(config_text))
        return _DASK_PIPELINES[key]


def _dask_warm(config_text: str) -> None:
    _dask_pipeline(config_text)


def dask_partition(config_text: str, items: list[Item]) -> tuple[list[Outcome], dict[str, float]]:
    """One partition of a run, analysed on a Dask worker."""
    nlp = _dask_pipeline(config_text)
    with _DASK_LOCK:  # one pipeline per process: its stage clocks are not thread-safe
        return analyze_chunk(nlp, items)


class DaskEngine(Engine):
    """A Dask distributed cluster: the scheduler at ``scheduler`` (``tcp://host:8786``), or a
    ``LocalCluster`` of ``workers`` single-threaded processes started here when it is None.

    The input is cut into partitions of ``partition_size`` articles, submitted as tasks at most
    ``window`` partitions ahead of the one being read; each worker loads the pipeline once, on
    its first partition. The config travels with the tasks, the models and gazetteers are the
    workers' own (the same vnsec must be installed on every worker).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 2, config: str | Path | None = None,
                 partition_size: int = 16, window: int | None = None):
        super().__init__()
        import tomllib

        from dask.distributed import Client, LocalCluster

        with open(Path(config) if config else DEFAULT_CONFIG, "rb") as handle:
            self._config = json.dumps(tomllib.load(handle), sort_keys=True)
        self._cluster = None
        if scheduler:
            self._client = Client(scheduler)
        else:
            import logging

            logging.getLogger("distributed").setLevel(logging.ERROR)  # no chatter from our own cluster
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=40)
            self._client = Client(self._cluster)
        self.address = self._client.scheduler.address
        self.workers = max(1, len(self._client.scheduler_info(n_workers=-1)["workers"]) if scheduler else workers)
        self.chunk_size = partition_size
        self.window = window or 3 * self.workers
        self._count = 0
        self._run = hashlib.sha256(os.urandom(16)).hexdigest()[:12]

    def start(self) -> None:
        """Load the pipeline on every worker now (for timing runs)."""
        self._client.wait_for_workers(self.workers)
        self._client.run(_dask_warm, self._config)

    def _submit(self, items: list[Item]) -> Any:
        self._count += 1
        return self._client.submit(dask_partition, self._config, items, key=f"vnsec-{self._run}-{self._count}",
                                   pure=False)

    def _result(self, handle: Any) -> tuple[list[Outcome], dict[str, float]]:
        try:
            return handle.result()
        finally:
            handle.release()

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def make_engine(engine: str, workers: int, config: str | Path | None = None, scheduler: str | None = None,
                nlp_factory: Callable[[], Pipeline] | None = None) -> Engine:
    """The engine a ``vnsec run`` asks for."""
    if engine == "dask":
        return DaskEngine(scheduler=scheduler, workers=workers, config=config)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}: use local or dask")
    if workers <= 1:
        if nlp_factory is None:
            from .language import Pipeline, default_pipeline

            nlp_factory = default_pipeline if config is None else (lambda: Pipeline.from_config(config))
        return InProcessEngine(nlp_factory())
    return ProcessEngine(workers, config=config)
