"""Scores, computed the way ``../shared/eval/score.py`` (the scorer we are judged with) defines
them, so that our own evaluation and the judges' agree without depending on that file."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any, Iterable


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    r = tp / n_gold if n_gold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "pred": n_pred, "gold": n_gold}


def classification_scores(gold: list[tuple[bool, set[str]]], pred: list[tuple[bool, set[str]]]) -> dict[str, Any]:
    """is_security P/R/F1, per-category P/R/F1, micro-F1 and macro-F1 over gold categories.

    gold, pred: per article, (is_security, set of category ids).
    """
    security = Counter()
    per_label: dict[str, Counter] = {}
    for (gs, gc), (ps, pc) in zip(gold, pred):
        security["tp"] += ps and gs
        security["pred"] += ps
        security["gold"] += gs
        for label in gc | pc:
            counter = per_label.setdefault(label, Counter())
            counter["tp"] += label in gc and label in pc
            counter["pred"] += label in pc
            counter["gold"] += label in gc
    categories = {label: prf(c["tp"], c["pred"], c["gold"]) for label, c in sorted(per_label.items())}
    with_support = [v for v in categories.values() if v["gold"]]
    total = sum(per_label.values(), Counter())
    return {
        "is_security": prf(security["tp"], security["pred"], security["gold"]),
        "categories_micro": prf(total["tp"], total["pred"], total["gold"]),
        "categories_macro_f1": round(sum(v["f1"] for v in with_support) / max(1, len(with_support)), 4),
        "categories": categories,
    }


def norm_form(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("_", " ")
    return re.sub(r"\s+", " ", text).strip(" .,;:\"'“”()[]").casefold()


def entity_forms(entity: Any) -> set[str]:
    if isinstance(entity, str):
        return {norm_form(entity)}
    forms = {norm_form(entity.get("name") or entity.get("text") or "")}
    forms |= {norm_form(a) for a in entity.get("aliases") or []}
    return {f for f in forms if f}


def entity_matches(pred: list[Any], gold: list[Any]) -> int:
    """Predicted entities that match an unmatched gold entity by any shared form."""
    gold_forms = [entity_forms(g) for g in gold]
    used = [False] * len(gold)
    hits = 0
    for p in pred:
        forms = entity_forms(p)
        for i, gf in enumerate(gold_forms):
            if not used[i] and forms & gf:
                used[i] = True
                hits += 1
                break
    return hits


def entity_scores(pairs: Iterable[tuple[list[Any], list[Any]]]) -> dict[str, float]:
    tp = n_pred = n_gold = 0
    for pred, gold in pairs:
        tp += entity_matches(pred, gold)
        n_pred += len(pred)
        n_gold += len(gold)
    return prf(tp, n_pred, n_gold)


def percentage_scores(pairs: Iterable[tuple[list[float], list[float]]]) -> dict[str, float]:
    tp = n_pred = n_gold = 0
    for pred, gold in pairs:
        pv = Counter(round(float(v), 3) for v in pred)
        gv = Counter(round(float(v), 3) for v in gold)
        tp += sum((pv & gv).values())
        n_pred += sum(pv.values())
        n_gold += sum(gv.values())
    return prf(tp, n_pred, n_gold)
