"""Progress of a batch run: a rich progress bar (articles, articles/s, ETA) on a terminal, plain
log lines to stderr every few seconds otherwise (logs of a scheduled job), nothing when quiet.

The total, for the bar and the ETA, is counted in a background thread
(:func:`pipeline.ingest.count`) while the run goes; until it is known the bar only counts.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, TextIO

from rich.console import Console


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class Progress:
    """Call it with the run's :class:`~pipeline.batch.Summary` after every article.

    mode: ``bar`` (rich, on a terminal), ``log`` (a line every ``every`` seconds), ``none``.
    """

    def __init__(self, mode: str, console: Console, count: Callable[[], int | None] | None = None,
                 every: float = 10.0, stream: TextIO | None = None, start_at: int = 0):
        self.mode = mode
        self.console = console
        self.every = every
        self.stream = stream or sys.stderr
        self.total: int | None = None
        self.start_at = start_at  # articles already done when this run started (resume)
        self._started = time.monotonic()
        self._last_log = self._started
        self._last: Any = None
        self._bar = None
        if mode != "none" and count is not None:
            threading.Thread(target=self._count, args=(count,), name="vnsec-count", daemon=True).start()
        if mode == "bar":
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(SpinnerColumn(), TextColumn("[bold]vnsec run"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("articles  {task.fields[rate]:.1f}/s  rejected {task.fields[rejected]}"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=console, transient=True)
            self._task = self._bar.add_task("run", total=None, completed=start_at, rate=0.0, rejected=0)
            self._bar.start()

    def _count(self, count: Callable[[], int | None]) -> None:
        try:
            self.total = count()
        except Exception:  # a total is a nicety: never let counting break a run
            self.total = None

    def rate(self, summary: Any) -> float:
        """Articles a second of this run (from its first article on, not from start-up)."""
        if summary.seconds > 0:
            return (summary.articles - self.start_at) / summary.seconds
        return 0.0

    def __call__(self, summary: Any) -> None:
        self._last = summary
        if self._bar is not None:
            self._bar.update(self._task, completed=summary.articles, total=self.total,
                             rate=self.rate(summary), rejected=summary.rejected)
        elif self.mode == "log":
            now = time.monotonic()
            if now - self._last_log >= self.every:
                self._last_log = now
                self.log(summary)

    def log(self, summary: Any) -> None:
        rate = self.rate(summary)
        done = f"{summary.articles:,}"
        eta = ""
        if self.total:
            done += f"/{self.total:,} ({100 * summary.articles / max(self.total, 1):.1f}%)"
            if rate > 0 and self.total > summary.articles:
                eta = f", ETA {_duration((self.total - summary.articles) / rate)}"
        self.stream.write(f"vnsec run: {done} articles, {summary.records:,} records, {summary.rejected:,} rejected, "
                          f"{rate:.1f} articles/s, elapsed {_duration(time.monotonic() - self._started)}{eta}\n")
        self.stream.flush()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
