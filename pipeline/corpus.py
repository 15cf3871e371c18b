"""Our annotated corpus: build the fixed splits from the annotated parts, and load them.

``corpora/parts/*.jsonl`` holds the articles as written and annotated (entities by surface form,
percentages by their text in order). :func:`build` checks every annotation, finds each mention's
character offsets, assigns the stratified train/dev/test split and writes
``corpora/vnsec-news/{train,dev,test}.jsonl``. :func:`load` returns them as a ``DatasetDict``.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .normalize import normalize

SPLITS = ("train", "dev", "test")
SPLIT_SHARES = (0.70, 0.15, 0.15)
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "corpora" / "vnsec-news"


class AnnotationError(ValueError):
    pass


def _occurrences(text: str, form: str) -> list[tuple[int, int]]:
    pattern = re.compile(rf"(?<![\w]){re.escape(form)}(?![\w])")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def locate_entities(text: str, entities: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """Add ``mentions`` (every occurrence of every form, longest forms first, no overlaps)."""
    claimed: list[tuple[int, int]] = []
    forms = sorted(((normalize(f).text, i) for i, e in enumerate(entities) for f in [e["name"], *e.get("aliases", [])]),
                   key=lambda fi: -len(fi[0]))
    mentions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for form, index in forms:
        found = _occurrences(text, form)
        if not found:
            raise AnnotationError(f"{label} form {form!r} does not occur in the text")
        for start, end in found:
            if any(s < end and start < e for s, e in claimed):
                continue
            claimed.append((start, end))
            mentions[index].append({"start": start, "end": end, "text": text[start:end]})
    return [{**e, "name": normalize(e["name"]).text, "aliases": [normalize(a).text for a in e.get("aliases", [])],
             "mentions": sorted(mentions[i], key=lambda m: m["start"])} for i, e in enumerate(entities)]


def locate_percentages(text: str, percentages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    located, cursor = [], 0
    for p in percentages:
        surface = normalize(p["text"]).text
        start = text.find(surface, cursor)
        if start < 0:
            raise AnnotationError(f"percentage {surface!r} not found after offset {cursor}")
        cursor = start + len(surface)
        located.append({"value": float(p["value"]), "text": surface, "start": start, "end": cursor})
    return located


def paragraph_categories(text: str, labels: list[list[str]] | None) -> list[list[str]] | None:
    """The categories each paragraph (non-empty line of ``text``, in order) reports on, checked to
    be one list per paragraph; None where the article has no paragraph annotation."""
    if labels is None:
        return None
    paragraphs = sum(1 for line in text.split("\n") if line.strip())
    if len(labels) != paragraphs:
        raise AnnotationError(f"paragraph_categories has {len(labels)} lists for {paragraphs} paragraphs")
    return [sorted(set(categories)) for categories in labels]


def _stratum(row: dict[str, Any]) -> str:
    return f"{row['kind']}:{row['categories'][0] if row['categories'] else 'none'}"


def assign_splits(rows: list[dict[str, Any]]) -> None:
    """Stratified by kind and first category; within a stratum, ordered by a hash of the id, so
    the split of an article never depends on which other articles exist."""
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        strata[_stratum(row)].append(row)
    for members in strata.values():
        members.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        n = len(members)
        n_dev = round(n * SPLIT_SHARES[1])
        n_test = round(n * SPLIT_SHARES[2])
        for index, row in enumerate(members):
            row["split"] = "dev" if index < n_dev else "test" if index < n_dev + n_test else "train"


def _read_manifest(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip())
    return {item_id: split for item_id, split in pairs}


def build(parts: str | Path, out: str | Path = DEFAULT_DIR) -> dict[str, Any]:
    """Check, locate and split the annotated parts; write the splits. Returns counts.

    The split of an article is fixed once made: ``splits.tsv`` in ``out`` records it, so a
    label revision never moves articles between train and test; new articles are split by
    :func:`assign_splits` among themselves."""
    rows, errors, seen = [], [], set()
    texts: set[str] = set()
    for path in sorted(Path(parts).glob("*.jsonl")):
        for number, line in enumerate(path.open(encoding="utf-8"), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
                # Offsets point into the normalised text, as in the pipeline's records; the
                # annotated forms are normalised the same way before they are looked up.
                text = normalize(row["text"]).text
                if row["id"] in seen:
                    raise AnnotationError(f"duplicate id {row['id']}")
                if text in texts:
                    raise AnnotationError("duplicate text")
                seen.add(row["id"])
                texts.add(text)
                rows.append({
                    "id": row["id"], "kind": row["kind"], "title": row["title"], "text": text,
                    "published": row.get("published"), "outlet_style": row.get("outlet_style"),
                    "categories": sorted(set(row["categories"])), "is_security": bool(row["categories"]),
                    "paragraph_categories": paragraph_categories(text, row.get("paragraph_categories")),
                    "organizations": locate_entities(text, row["organizations"], "organization"),
                    "people": locate_entities(text, row["people"], "person"),
                    "percentages": locate_percentages(text, row["percentages"]),
                })
            except (AnnotationError, KeyError, json.JSONDecodeError, TypeError) as error:
                errors.append(f"{where}: {type(error).__name__}: {error}")
    out = Path(out)
    manifest = _read_manifest(out / "splits.tsv")
    for row in rows:
        if row["id"] in manifest:
            row["split"] = manifest[row["id"]]
    assign_splits([row for row in rows if "split" not in row])
    out.mkdir(parents=True, exist_ok=True)
    with (out / "splits.tsv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("id\tsplit\n")
        handle.writelines(f"{row['id']}\t{row['split']}\n" for row in sorted(rows, key=lambda r: r["id"]))
    for split in SPLITS:
        with (out / f"{split}.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
            for row in sorted((r for r in rows if r["split"] == split), key=lambda r: r["id"]):
                handle.write(json.dumps({k: v for k, v in row.items() if k != "split"}, ensure_ascii=False) + "\n")
    (out / "build_errors.txt").write_text("".join(e + "\n" for e in errors), encoding="utf-8")
    return stats(rows) | {"excluded_with_errors": len(errors)}


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_split: dict[str, Counter] = {s: Counter() for s in SPLITS}
    for row in rows:
        counter = by_split[row.get("split", "train")]
        counter["items"] += 1
        counter[row["kind"]] += 1
        counter["security" if row["categories"] else "not_security"] += 1
        counter.update(f"cat:{c}" for c in row["categories"])
    total = sum(by_split.values(), Counter())
    return {"total": dict(sorted(total.items())), **{s: dict(sorted(c.items())) for s, c in by_split.items()}}


def files(folder: str | Path = DEFAULT_DIR) -> dict[str, str]:
    return {split: str(Path(folder) / f"{split}.jsonl") for split in SPLITS}


def read_split(split: str, folder: str | Path = DEFAULT_DIR) -> list[dict[str, Any]]:
    with open(files(folder)[split], encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_subset(out: str | Path, counts: dict[str, int], folder: str | Path = DEFAULT_DIR) -> Path:
    """The first ``counts[split]`` rows of each split, written as a corpus folder of its own
    (for quick experiments and tests of training code)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        rows = read_split(split, folder)[: counts.get(split, 0)]
        (out / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    return out


def load(folder: str | Path = DEFAULT_DIR):
    """The corpus as a Hugging Face ``datasets.DatasetDict`` with train, dev and test."""
    import datasets

    return datasets.load_dataset("json", data_files=files(folder))


def corpus_hash(folder: str | Path = DEFAULT_DIR) -> str:
    digest = hashlib.sha256()
    for split in SPLITS:
        digest.update(Path(files(folder)[split]).read_bytes())
    return "sha256:" + digest.hexdigest()
