"""Short Vietnamese test articles made from the sentences of our own corpus (train split)."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

TRAIN = Path(__file__).resolve().parent.parent / "corpora" / "vnsec-news" / "train.jsonl"
_SPLIT = re.compile(r"(?<=[.!?])\s+")


def sentences() -> list[str]:
    found = []
    with TRAIN.open(encoding="utf-8") as handle:
        for line in handle:
            for paragraph in json.loads(line)["text"].split("\n"):
                found += [s.strip() for s in _SPLIT.split(paragraph) if 30 <= len(s.strip()) <= 200]
    return found


def articles(n: int, seed: int = 1, max_sentences: int = 3) -> list[dict]:
    """``n`` articles with ids ``a0000``..., 1 to ``max_sentences`` sentences each."""
    rng = random.Random(seed)
    pool = sentences()
    return [{"id": f"a{i:04d}", "text": "\n".join(rng.sample(pool, rng.randint(1, max_sentences)))}
            for i in range(n)]


def write_jsonl(path: Path, rows: list, extra_lines: dict[int, bytes] | None = None) -> Path:
    """Rows as JSONL; ``extra_lines`` inserts raw lines (bad input) before the given row index."""
    with path.open("wb") as out:
        for index, row in enumerate(rows):
            if extra_lines and index in extra_lines:
                out.write(extra_lines[index] + b"\n")
            out.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return path
