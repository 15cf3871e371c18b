"""Resumable runs: a checkpoint journal beside the output.

While ``vnsec run ... -o OUT.jsonl`` runs, records go to ``OUT.jsonl.partial`` and rejects to
``REJECTS.jsonl.partial`` (and every extra ``jsonl:`` sink to its own ``.partial``), appended in
input order. Every couple of seconds (and when the run is interrupted) the journal commits a
checkpoint: it flushes and fsyncs those files, then atomically replaces ``OUT.jsonl.state``, a
small JSON file recording how many input items are done (each one a record or a reject), the
byte length of every partial file at that point, and the run's counters. ``OUT.jsonl.seen``
holds a 16-byte digest of each record id written, so that duplicates are still recognised
after a restart.

A restarted run with the same command (same inputs, config, outputs and sinks: the
*fingerprint*) truncates each partial file to its checkpointed length (dropping whatever was
written after the checkpoint, e.g. before a ``kill -9``), skips the items already done, and
appends. The records of a resumed run are therefore byte for byte those of an uninterrupted one.
On success the partial files are renamed over the outputs and the state removed, so re-running
a finished run starts afresh and replaces the outputs whole.

Sinks that cannot be truncated (databases) are sent the records from the checkpoint on again;
they upsert by id, so they end up complete without duplicates.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from . import __version__

STATE_VERSION = 1
DIGEST_BYTES = 16


class Checkpointable(Protocol):
    """A file written through a ``.partial`` that a checkpoint can record and a resume truncate."""

    partial: Path
    position: int

    def sync(self) -> None: ...


def digest(record_id: str) -> int:
    """128 bits of the SHA-256 of an id: what the run remembers of each id (16 bytes on disk)."""
    return int.from_bytes(hashlib.sha256(record_id.encode("utf-8")).digest()[:DIGEST_BYTES], "big")


def fingerprint(**parts: Any) -> str:
    """A hash of what makes two runs the same run (inputs, config, outputs...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def file_stamp(path: str | Path) -> Any:
    """Size and modification time of a file (a folder: its own only), or None."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns] if not os.path.isdir(path) else ["dir", stat.st_mtime_ns]


def tree_stamp(folder: str | Path) -> list:
    """Size and modification time of every file under ``folder`` (the models)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [[str(p.relative_to(folder)), *file_stamp(p)] for p in sorted(folder.rglob("*")) if p.is_file()]


@dataclass
class ResumePoint:
    """Where a run stopped: items done, the partial files' committed lengths, the counters."""

    consumed: int
    files: dict[str, int]
    seen_bytes: int
    summary: dict[str, Any]


@dataclass
class Journal:
    """The checkpoints of one run writing ``out``.

    ``every_seconds``/``every_items``: how often a checkpoint is committed (whichever comes
    first). Call :meth:`load` before opening the outputs (to learn where to resume), then
    :meth:`start` with the partial files, :meth:`note_record` for every record written and
    :meth:`done` after every item; :meth:`checkpoint` on an interruption, :meth:`finish` on success.
    """

    out: Path
    fingerprint: str
    every_seconds: float = 2.0
    every_items: int = 2000
    state_path: Path = field(init=False)
    seen_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.out = Path(out_abs := os.path.abspath(self.out))
        self.state_path = Path(out_abs + ".state")
        self.seen_path = Path(out_abs + ".seen")
        self._files: list[Checkpointable] = []
        self._seen_handle = None
        self._seen_position = 0
        self._snapshot: tuple | None = None
        self._last_time = time.monotonic()
        self._last_items = 0
        self.ignored: str | None = None  # why an existing checkpoint was not resumed from
        self.extra: Callable[[], dict[str, Any]] | None = None  # more counters, read at checkpoints

    # -- resuming ------------------------------------------------------------------------------

    def load(self) -> ResumePoint | None:
        """The checkpoint to resume from, or None (no checkpoint, or one that does not fit:
        another command's, or files missing; ``ignored`` then says why)."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            self.ignored = f"unreadable checkpoint {self.state_path}: {error}"
            return None
        if state.get("version") != STATE_VERSION or state.get("fingerprint") != self.fingerprint:
            self.ignored = (f"the checkpoint {self.state_path} is of a different run (inputs, config, "
                            "outputs or models changed): starting afresh")
            return None
        files = {str(k): int(v) for k, v in state.get("files", {}).items()}
        for path, size in [*files.items(), (str(self.seen_path), int(state.get("seen_bytes", 0)))]:
            if not os.path.exists(path) or os.path.getsize(path) < size:
                self.ignored = f"{path} is missing or shorter than its checkpoint: starting afresh"
                return None
        return ResumePoint(int(state["consumed"]), files, int(state.get("seen_bytes", 0)), state.get("summary", {}))

    def start(self, files: Iterable[Checkpointable], point: ResumePoint | None) -> set[int]:
        """Begin journaling ``files``; the digests of the ids already written when resuming."""
        self._files = list(files)
        seen: set[int] = set()
        size = point.seen_bytes if point else 0
        fd = os.open(self.seen_path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, size)
        handle = os.fdopen(fd, "r+b")
        while block := handle.read(DIGEST_BYTES * 4096):
            for start in range(0, len(block), DIGEST_BYTES):
                seen.add(int.from_bytes(block[start:start + DIGEST_BYTES], "big"))
        handle.seek(size)
        self._seen_handle = handle
        self._seen_position = size
        self._last_items = point.consumed if point else 0
        return seen

    # -- while running -------------------------------------------------------------------------

    def note_record(self, record_digest: int) -> None:
        data = record_digest.to_bytes(DIGEST_BYTES, "big")
        self._seen_handle.write(data)
        self._seen_position += len(data)

    def done(self, consumed: int, counters: dict[str, Any]) -> None:
        """Every item up to ``consumed`` is written: remember this consistent point (cheaply),
        and commit it when a checkpoint is due."""
        self._snapshot = (consumed, [f.position for f in self._files], self._seen_position, counters)
        if consumed - self._last_items >= self.every_items or time.monotonic() - self._last_time >= self.every_seconds:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Make the last consistent point durable: fsync the files, then replace the state."""
        if self._snapshot is None:
            return
        consumed, positions, seen_position, counters = self._snapshot
        for file in self._files:
            file.sync()
        if self._seen_handle is not None:
            self._seen_handle.flush()
            os.fsync(self._seen_handle.fileno())
        state = {
            "version": STATE_VERSION, "vnsec": __version__, "fingerprint": self.fingerprint,
            "consumed": consumed, "seen_bytes": seen_position,
            "files": {str(os.path.abspath(f.partial)): p for f, p in zip(self._files, positions)},
            "summary": counters | (self.extra() if self.extra else {}),
        }
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.state_path)
        _fsync_dir(self.state_path.parent)
        self._last_time = time.monotonic()
        self._last_items = consumed

    def close(self) -> None:
        if self._seen_handle is not None:
            self._seen_handle.close()
            self._seen_handle = None

    def finish(self) -> None:
        """The run is complete and its outputs in place: forget the checkpoint."""
        self.close()
        self.state_path.unlink(missing_ok=True)
        self.seen_path.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
