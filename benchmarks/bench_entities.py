"""Entity-stage throughput beside underthesea.ner, on the same articles, in one run.

usage: python benchmarks/bench_entities.py [--articles N] [--out benchmarks/RESULTS-entities.md]

Articles: our held-out corpus splits (dev + test). Reported per article, as ratios:
- vnsec entity stage alone (on the segmented doc, as in the pipeline) vs underthesea.ner;
- vnsec segment + entities (comparable work: ner segments and tags itself) vs underthesea.ner.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS-entities.md")
    args = parser.parse_args()

    from underthesea import ner, word_tokenize

    from pipeline.corpus import read_split
    from pipeline.language import default_pipeline
    from pipeline.normalize import normalize
    from pipeline.segment import tokenize

    rows = (read_split("dev") + read_split("test"))[: args.articles]
    texts = [normalize(r["text"]).text for r in rows]
    nlp = default_pipeline()
    entities = dict(nlp.stages)["entities"]
    word_tokenize("khởi động")  # load models before timing
    ner("khởi động")

    from pipeline.doc import Doc

    docs = [Doc(raw=t, text=t, tokens=tokenize(t)) for t in texts]
    started = time.perf_counter()
    for doc in docs:
        entities(doc)
    stage_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for text in texts:
        entities(Doc(raw=text, text=text, tokens=tokenize(text)))
    segment_entities_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for text in texts:
        ner(text)
    ner_seconds = time.perf_counter() - started

    n = len(texts)
    lines = [
        "# Entity stage vs underthesea.ner",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
        f"1 process. Articles: {n} (our held-out dev+test splits, mean {sum(map(len, texts)) / n:.0f} characters).",
        f"Command: `python benchmarks/bench_entities.py --articles {args.articles}`",
        "",
        "| system | ms per article | articles/s | ratio to underthesea.ner |",
        "| --- | ---: | ---: | ---: |",
        f"| underthesea.ner | {1000 * ner_seconds / n:.1f} | {n / ner_seconds:.1f} | 1.0x |",
        f"| vnsec entities stage (tokens given) | {1000 * stage_seconds / n:.1f} | {n / stage_seconds:.1f} | "
        f"{ner_seconds / stage_seconds:.1f}x |",
        f"| vnsec segment + entities | {1000 * segment_entities_seconds / n:.1f} | {n / segment_entities_seconds:.1f} | "
        f"{ner_seconds / segment_entities_seconds:.1f}x |",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
