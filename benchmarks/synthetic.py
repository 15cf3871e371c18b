"""Synthetic Vietnamese articles built from the sentences of our own corpus
(``corpora/vnsec-news/train.jsonl``), varied: each article is a title sentence and 3 to 12
body sentences drawn at random, with numbers and percentages changed, so that no two articles
are the same text. Deterministic for a seed.

    python benchmarks/synthetic.py 200000 > articles.jsonl
"""
from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "corpora" / "vnsec-news" / "train.jsonl"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ\"“])")
_NUMBER = re.compile(r"\d+")


def sentences(path: Path = TRAIN) -> tuple[list[str], list[str]]:
    """Titles (first lines) and body sentences of the corpus."""
    titles, body = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["text"]
            first, _, rest = text.partition("\n")
            titles.append(first.strip())
            for paragraph in rest.split("\n"):
                body += [s.strip() for s in _SENTENCE_END.split(paragraph) if len(s.strip()) > 20]
    return titles, body


def articles(n: int, seed: int = 5, min_sentences: int = 3, max_sentences: int = 12) -> Iterator[dict]:
    """``n`` articles ``{"id", "title", "text", "published", "feed"}``."""
    rng = random.Random(seed)
    titles, body = sentences()

    def vary(sentence: str) -> str:
        return _NUMBER.sub(lambda m: str(max(1, int(m.group(0)) + rng.randint(-9, 9))) if len(m.group(0)) < 6 else m.group(0),
                           sentence)

    for index in range(n):
        title = vary(rng.choice(titles))
        chosen = [vary(rng.choice(body)) for _ in range(rng.randint(min_sentences, max_sentences))]
        paragraphs, cursor = [], 0
        while cursor < len(chosen):
            step = rng.randint(1, 4)
            paragraphs.append(" ".join(chosen[cursor:cursor + step]))
            cursor += step
        yield {"id": f"synth-{seed}-{index:07d}", "title": title, "text": title + "\n" + "\n".join(paragraphs),
               "published": f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}", "feed": f"synthetic-{index % 7}"}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = sys.stdout
    for article in articles(count):
        out.write(json.dumps(article, ensure_ascii=False) + "\n")
