"""Ingest: read articles from JSONL files, ``.txt`` files, RSS/Atom feeds, HTML pages,
directories of them, or stdin.

Every input unit ends up as exactly one :class:`Item`: an article to analyse, or an error that
names the input and line. Nothing is skipped silently. Reading is lazy (a generator over the
inputs, directories walked one folder at a time), so memory does not grow with the input.

Feed items and HTML pages that name their link get a stable id, :func:`item_id`: a hash of the
canonical link (or, failing that, of the item's guid), so the same article in two feeds, or in
a feed and as a page, has the same id and a run emits it once.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, BinaryIO, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = ".jsonl, .txt, .xml/.rss/.atom (feeds), .html/.htm, or any of them .gz"
_BINARY_SNIFF = 8192
# A feed file or an HTML page is read whole; past this many bytes (times the article limit's
# worst-case 4 bytes a character) it is rejected rather than loaded.
_FILE_BYTES_PER_CHAR = 4


@dataclass(frozen=True)
class Item:
    """One input unit. Exactly one of ``article``, ``error`` and ``html`` is set.

    input: path (or ``-`` for stdin); line: 1-based line of a JSONL input, the 1-based position
    of an item in a feed, None for a whole file.
    article: the input's fields, ``text`` always a non-empty string.
    html: the bytes of an HTML page whose main text is still to be extracted
        (:func:`extract_html`); extraction is left to the process that analyses the article.
    """

    input: str
    line: int | None
    article: dict[str, Any] | None = None
    error: str | None = None
    html: bytes | None = None


# --- ids -------------------------------------------------------------------------------------

_TRACKING_PARAMS = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|igshid|yclid)$", re.I)


def canonical_url(url: str | None) -> str | None:
    """The form of a link under which copies of one article compare equal; None if ``url`` is
    not an http(s) URL.

    ``http`` and ``https`` are the same, the host is lower-cased without ``www.`` or a default
    port, the fragment and tracking parameters (``utm_*``, ``fbclid``, ``gclid``...) are dropped,
    the other query parameters sorted, and a trailing ``/`` of the path removed.

    >>> canonical_url("HTTPS://www.Example.vn:443/tin/a-1.html/?utm_source=rss&b=2&a=1#top")
    'example.vn/tin/a-1.html?a=1&b=2'
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k))
    return host + path + (f"?{urlencode(query)}" if query else "")


def item_id(link: str | None, guid: str | None = None, scope: str = "") -> str | None:
    """Stable id of a feed item or web page: ``item:`` and 32 hex digits of the SHA-256 of its
    canonical link (:func:`canonical_url`); an item without a usable link is keyed by its guid
    (canonicalised too when it is a URL; a guid that is not one is only unique within its feed, so
    ``scope``, the feed, is hashed with it). None when there is neither: the article then gets
    the hash of its text, like any article without an id.
    """
    key = canonical_url(link)
    if key is None and guid and guid.strip():
        key = canonical_url(guid) or f"guid:{scope}\x00{guid.strip()}"
    if key is None:
        return None
    return "item:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


# --- HTML to text ----------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "blockquote", "section", "article", "header", "footer", "figure", "figcaption", "pre", "hr",
    "dd", "dt", "dl", "td", "th", "aside", "nav", "main", "address",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(markup: str) -> str:
    """Text of an HTML fragment: tags dropped (scripts and styles with their content), entities
    decoded, a line break at each block element, blank runs collapsed.

    >>> strip_html("<p>Tin tặc <b>tấn công</b> &amp; tống tiền</p><p>Dòng 2<br/>Dòng 3</p>")
    'Tin tặc tấn công & tống tiền\\nDòng 2\\nDòng 3'
    """
    if "<" not in markup and "&" not in markup:
        text = markup
    else:
        parser = _TextOf()
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# --- readers ---------------------------------------------------------------------------------


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


def _read_whole(path: Path, compressed: bool, max_chars: int) -> bytes | None:
    """The file's bytes, or None when it is over the size limit."""
    limit = max_chars * _FILE_BYTES_PER_CHAR
    with _open(path, compressed) as handle:
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def _iso(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    except (TypeError, ValueError):
        return None


def _detail_text(value: str | None, detail: Any) -> str:
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/html") if isinstance(detail, dict) else "text/html"
    return strip_html(value) if "html" in kind or "xml" in kind else "\n".join(
        " ".join(line.split()) for line in value.splitlines() if line.strip())


def read_feed(path: Path, max_chars: int, compressed: bool = False) -> Iterator[Item]:
    """Items of an RSS 2.0 or Atom feed file, in feed order.

    Each item keeps ``url`` (its link), ``published`` (ISO 8601, UTC), ``feed`` (the feed's
    title, else its link), ``title``, and ``text``: the title, a line break, and the item's
    content (else its summary) with the HTML stripped. Its ``id`` is :func:`item_id`. A file that
    is not a feed becomes one reject naming the file.
    """
    import feedparser

    name = str(path)
    data = _read_whole(path, compressed, max_chars)
    if data is None:
        yield Item(name, None, error=f"feed file over the size limit of {max_chars * _FILE_BYTES_PER_CHAR:,} bytes")
        return
    # A file object: feedparser never treats it as a URL or a file name to open.
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            yield Item(name, None, error=f"not a valid RSS/Atom feed: {type(problem).__name__}: {problem}")
        elif not parsed.get("version"):
            yield Item(name, None, error="not an RSS or Atom feed (no channel or feed element)")
        return  # a valid feed with no items holds no article
    info = parsed.get("feed") or {}
    feed_title = _detail_text(info.get("title"), info.get("title_detail")).replace("\n", " ")
    feed_name = feed_title or info.get("link") or path.name
    for number, entry in enumerate(entries, 1):
        title = _detail_text(entry.get("title"), entry.get("title_detail")).replace("\n", " ")
        body = ""
        for content in entry.get("content") or []:
            body = _detail_text(content.get("value"), content)
            if body:
                break
        if not body:
            body = _detail_text(entry.get("summary"), entry.get("summary_detail"))
        if title and body.startswith(title):
            body = body[len(title):].lstrip()
        link = entry.get("link")
        article: dict[str, Any] = {"text": "\n".join(part for part in (title, body) if part)}
        rid = item_id(link, entry.get("id"), scope=info.get("link") or feed_name)
        if rid:
            article["id"] = rid
        if title:
            article["title"] = title
        if link:
            article["url"] = link
        published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
        if published:
            article["published"] = published
        article["feed"] = feed_name
        yield _checked(article, name, number, max_chars)


def read_html_file(path: Path, max_chars: int, compressed: bool = False) -> Item:
    """An HTML page, to be reduced to its main text by :func:`extract_html` where it is analysed."""
    name = str(path)
    data = _read_whole(path, compressed, max_chars)
    if data is None:
        return Item(name, None, error=f"HTML page over the size limit of {max_chars * _FILE_BYTES_PER_CHAR:,} bytes")
    if b"\x00" in data[:_BINARY_SNIFF]:
        return Item(name, None, error="binary file (NUL bytes), not HTML")
    return Item(name, None, html=data)


def extract_html(item: Item, max_chars: int) -> Item:
    """The article of an HTML page: title, a line break and the main text that ``trafilatura``
    extracts (boilerplate, menus and comments left out), with the page's canonical ``url``,
    ``published`` date and site name; the id is :func:`item_id` of the canonical link."""
    if item.html is None:
        return item
    import trafilatura

    try:
        document = trafilatura.bare_extraction(item.html, with_metadata=True, include_comments=False,
                                               include_tables=True, deduplicate=False)
    except Exception as error:  # a page trafilatura cannot parse is one reject, not a crash
        return Item(item.input, item.line, error=f"cannot extract the text of the HTML page: {type(error).__name__}: {error}")
    if document is None or not (getattr(document, "text", None) or "").strip():
        return Item(item.input, item.line, error="no main text found in the HTML page")
    title = " ".join((document.title or "").split())
    body = document.text.strip()
    if title and body.startswith(title):
        body = body[len(title):].lstrip()
    article: dict[str, Any] = {"text": "\n".join(part for part in (title, body) if part)}
    rid = item_id(document.url)
    if rid:
        article["id"] = rid
    if title:
        article["title"] = title
    if document.url:
        article["url"] = document.url
    if document.date:
        article["published"] = document.date
    article["source"] = {"name": document.sitename or Path(item.input).name}
    return _checked(article, item.input, item.line, max_chars)


def walk(folder: Path) -> Iterator[Path]:
    """Files under ``folder`` in the order of ``sorted(folder.rglob("*"))``, one folder's listing
    in memory at a time (symbolic links to folders are not followed, as with ``rglob``)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir() and not entry.is_symlink()
            is_file = entry.is_file()
        except OSError:
            continue
        if is_dir:
            yield from walk(Path(entry.path))
        elif is_file:
            yield Path(entry.path)


def read(inputs: list[str], max_chars: int = 1_000_000, stdin: BinaryIO | None = None) -> Iterator[Item]:
    """Items of every input in order: files, directories (sorted, recursive), ``-`` for stdin."""
    for entry in inputs:
        if entry == "-":
            yield from read_jsonl(stdin or sys.stdin.buffer, "-", max_chars)
            continue
        path = Path(entry)
        if path.is_dir():
            for child in walk(path):
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
        elif suffix in FEED_SUFFIXES:
            yield from read_feed(path, max_chars, compressed)
        elif suffix in HTML_SUFFIXES:
            yield read_html_file(path, max_chars, compressed)
        elif suffix in TEXT_SUFFIXES or not suffix:
            yield read_text_file(path, max_chars, compressed)
        else:
            yield Item(str(path), None, error=f"unsupported file type {path.suffix!r} (expected {SUPPORTED})")
    except (OSError, EOFError, gzip.BadGzipFile, zlib_error) as error:
        yield Item(str(path), None, error=f"cannot read: {error}")


try:
    from zlib import error as zlib_error
except ImportError:  # pragma: no cover
    zlib_error = OSError


_FEED_ITEM = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)[\s>/]")


def count(inputs: list[str]) -> int | None:
    """About how many items :func:`read` will yield (for a progress bar's total), reading the
    inputs quickly without parsing them; None when an input is stdin."""
    total = 0
    for entry in inputs:
        if entry == "-":
            return None
        path = Path(entry)
        if not path.exists():
            total += 1  # the "no such file" reject
            continue
        for file in walk(path) if path.is_dir() else [path]:
            suffix, compressed = _suffixes(file)
            try:
                if suffix in JSONL_SUFFIXES:
                    with _open(file, compressed) as handle:
                        total += sum(1 for line in handle if line.strip())
                elif suffix in FEED_SUFFIXES:
                    with _open(file, compressed) as handle:
                        total += max(1, len(_FEED_ITEM.findall(handle.read())))
                else:
                    total += 1
            except (OSError, EOFError, zlib_error):
                total += 1
    return total
