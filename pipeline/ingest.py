"""Ingest: read articles from JSONL files, ``.txt`` files, directories of them, or stdin.

Every input unit ends up as exactly one :class:`Item`: an article to analyse, or an error that
names the input and line. Nothing is skipped silently.
"""
from __future__ import annotations

import gzip
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_BINARY_SNIFF = 8192


@dataclass(frozen=True)
class Item:
    """One input unit. Exactly one of ``article`` and ``error`` is set.

    input: path (or ``-`` for stdin); line: 1-based line of a JSONL input, None for a whole file.
    article: the input's fields, ``text`` always a non-empty string.
    """

    input: str
    line: int | None
    article: dict[str, Any] | None = None
    error: str | None = None


def _suffixes(path: Path) -> tuple[str, bool]:
    compressed = path.suffix.lower() == ".gz"
    suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    return suffix, compressed


def _open(path: Path, compressed: bool) -> BinaryIO:
    return gzip.open(path, "rb") if compressed else path.open("rb")


def read_jsonl(stream: BinaryIO, name: str, max_chars: int) -> Iterator[Item]:
    """Articles of a JSONL stream: one JSON object per line with a non-empty ``text``."""
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue  # blank lines hold no article
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Item(name, number, error=f"not valid UTF-8: byte 0x{raw[error.start]:02x} at column {error.start + 1}")
            continue
        try:
            article = json.loads(line)
        except json.JSONDecodeError as error:
            yield Item(name, number, error=f"invalid JSON: {error.msg} at column {error.colno}")
            continue
        yield _checked(article, name, number, max_chars)


def _checked(article: Any, name: str, line: int | None, max_chars: int) -> Item:
    if not isinstance(article, dict):
        return Item(name, line, error=f"expected a JSON object, got {type(article).__name__}")
    text = article.get("text")
    if text is None:
        return Item(name, line, error="no `text` field")
    if not isinstance(text, str):
        return Item(name, line, error=f"`text` must be a string, got {type(text).__name__}")
    if not text.strip():
        return Item(name, line, error="`text` is empty or whitespace only")
    if len(text) > max_chars:
        return Item(name, line, error=f"`text` has {len(text):,} characters, over the limit of {max_chars:,}")
    if "\x00" in text:
        return Item(name, line, error="`text` holds NUL characters (binary data?)")
    return Item(name, line, article=article)


def read_text_file(path: Path, max_chars: int, compressed: bool = False) -> Item:
    """A whole ``.txt`` file as one article; its id is left to the text hash."""
    with _open(path, compressed) as handle:
        data = handle.read(max_chars * 4 + 1)
    if b"\x00" in data[:_BINARY_SNIFF]:
        return Item(str(path), None, error="binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return Item(str(path), line, error=f"not valid UTF-8: byte 0x{data[error.start]:02x} on line {line}")
    return _checked({"text": text, "source": {"name": path.name}}, str(path), None, max_chars)


def read(inputs: list[str], max_chars: int = 1_000_000, stdin: BinaryIO | None = None) -> Iterator[Item]:
    """Items of every input in order: files, directories (sorted, recursive), ``-`` for stdin."""
    for entry in inputs:
        if entry == "-":
            yield from read_jsonl(stdin or sys.stdin.buffer, "-", max_chars)
            continue
        path = Path(entry)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from _read_file(child, max_chars)
        elif path.is_file():
            yield from _read_file(path, max_chars)
        else:
            yield Item(entry, None, error="no such file or directory")


def _read_file(path: Path, max_chars: int) -> Iterator[Item]:
    suffix, compressed = _suffixes(path)
    try:
        if suffix in JSONL_SUFFIXES:
            with _open(path, compressed) as handle:
                yield from read_jsonl(io.BufferedReader(handle) if compressed else handle, str(path), max_chars)
        elif suffix in TEXT_SUFFIXES or not suffix:
            yield read_text_file(path, max_chars, compressed)
        else:
            yield Item(str(path), None, error=f"unsupported file type {path.suffix!r} (expected .jsonl or .txt)")
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        yield Item(str(path), None, error=f"cannot read: {error}")
