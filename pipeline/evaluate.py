"""``vnsec evaluate``: score the pipeline against gold annotations, beside baselines.

Accepts our corpus files and any JSONL in the same format (``../shared/eval/dev.jsonl``):
rows with ``id``, ``text``, ``is_security``, ``categories``, ``organizations``, ``people`` and
``percentages`` (floats, or objects with ``value``).
"""
from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path
from typing import Any

from .language import PROJECT_ROOT, default_pipeline
from .metrics import classification_scores, entity_scores, percentage_scores


class KeywordBaseline:
    """What a keyword filter does: a category when one of its keywords occurs (``keywords`` of
    ``configs/taxonomy.toml``), security news when any category fires."""

    def __init__(self, taxonomy: str | Path = PROJECT_ROOT / "configs" / "taxonomy.toml"):
        with open(taxonomy, "rb") as handle:
            categories = tomllib.load(handle)["categories"]
        self.patterns = {
            label: re.compile(r"(?<!\w)(?:%s)(?!\w)" % "|".join(map(re.escape, spec.get("keywords", []))), re.I)
            for label, spec in categories.items() if spec.get("keywords")
        }

    def predict(self, text: str) -> tuple[bool, set[str]]:
        found = {label for label, pattern in self.patterns.items() if pattern.search(text)}
        return bool(found), found


def _percent_values(row: dict[str, Any]) -> list[float]:
    return [float(p["value"]) if isinstance(p, dict) else float(p) for p in row.get("percentages", [])]


def _underthesea_entities(text: str) -> tuple[list[str], list[str]]:
    """Organisations and people as ``underthesea.ner`` finds them (B-/I- spans joined)."""
    from underthesea import ner

    spans: dict[str, list[str]] = {"ORG": [], "PER": []}
    current, words = None, []
    for word, _pos, _chunk, tag in ner(text) + [("", "", "", "O")]:
        kind = tag[2:] if tag != "O" else None
        if tag.startswith("I-") and kind == current:
            words.append(word)
            continue
        if current in spans and words:
            spans[current].append(" ".join(words))
        current, words = (kind, [word]) if tag.startswith("B-") or tag.startswith("I-") else (None, [])
    unique = lambda xs: list(dict.fromkeys(xs))  # noqa: E731
    return unique(spans["ORG"]), unique(spans["PER"])


def evaluate_rows(rows: list[dict[str, Any]], records_out: str | Path | None = None,
                  underthesea_ner: bool = False) -> dict[str, Any]:
    nlp = default_pipeline()
    baseline = KeywordBaseline()
    gold_cls, pred_cls, base_cls = [], [], []
    org_pairs, per_pairs, pct_pairs = [], [], []
    ut_org_pairs, ut_per_pairs = [], []
    timings = {"vnsec_seconds": 0.0, "underthesea_ner_seconds": 0.0}
    out = open(records_out, "w", encoding="utf-8") if records_out else None
    try:
        for row in rows:
            started = time.perf_counter()
            record = nlp.analyze(row["text"], id=row.get("id"), title=row.get("title"))
            timings["vnsec_seconds"] += time.perf_counter() - started
            if out:
                out.write(record.model_dump_json() + "\n")
            gold_cls.append((bool(row["is_security"]), set(row["categories"])))
            pred_cls.append((record.threat.is_security, set(record.threat.categories)))
            base_cls.append(baseline.predict(record.text))
            org_pairs.append(([o.model_dump() for o in record.organizations], row.get("organizations", [])))
            per_pairs.append(([p.model_dump() for p in record.people], row.get("people", [])))
            pct_pairs.append(([p.value for p in record.percentages], _percent_values(row)))
            if underthesea_ner:
                started = time.perf_counter()
                orgs, people = _underthesea_entities(row["text"])
                timings["underthesea_ner_seconds"] += time.perf_counter() - started
                ut_org_pairs.append((orgs, row.get("organizations", [])))
                ut_per_pairs.append((people, row.get("people", [])))
    finally:
        if out:
            out.close()
    report: dict[str, Any] = {
        "articles": len(rows),
        "vnsec": classification_scores(gold_cls, pred_cls)
        | {"organizations": entity_scores(org_pairs), "people": entity_scores(per_pairs),
           "percentages": percentage_scores(pct_pairs)},
        "keyword_baseline": classification_scores(gold_cls, base_cls),
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    if underthesea_ner:
        report["underthesea_ner"] = {"organizations": entity_scores(ut_org_pairs),
                                     "people": entity_scores(ut_per_pairs)}
    return report


def evaluate_file(path: str | Path, records_out: str | Path | None = None, underthesea_ner: bool = False) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    report = evaluate_rows(rows, records_out, underthesea_ner)
    report["data"] = str(path)
    return report


def render(report: dict[str, Any], console) -> None:
    from rich.table import Table

    systems = [name for name in ("vnsec", "keyword_baseline", "underthesea_ner") if name in report]
    table = Table(title=f"{report.get('data', '')} ({report['articles']} articles)")
    table.add_column("measure")
    for name in systems:
        table.add_column(name, justify="right")

    def cell(system: str, key: str) -> str:
        value = report[system].get(key)
        if value is None:
            return "-"
        if isinstance(value, dict):
            return f"P {value['p']:.3f} R {value['r']:.3f} F1 {value['f1']:.3f}"
        return f"{value:.3f}"

    for key in ("is_security", "categories_micro", "categories_macro_f1", "organizations", "people", "percentages"):
        table.add_row(key, *(cell(s, key) for s in systems))
    console.print(table)
    per_label = Table(title="per category (vnsec | keyword baseline)")
    for column in ("category", "gold", "vnsec P", "vnsec R", "vnsec F1", "baseline F1"):
        per_label.add_column(column, justify="right" if column != "category" else "left")
    for label, scores in report["vnsec"]["categories"].items():
        base = report["keyword_baseline"]["categories"].get(label, {"f1": 0.0})
        per_label.add_row(label, str(scores["gold"]), f"{scores['p']:.2f}", f"{scores['r']:.2f}",
                          f"{scores['f1']:.2f}", f"{base['f1']:.2f}")
    console.print(per_label)
    console.print(f"timings: {report['timings']}")
