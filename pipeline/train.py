"""Train the threat classifier from ``configs/train.toml`` and write it with its model card.

The features are the segmented text (what the ``classify`` stage sees at run time); the model is
TF-IDF features shared by logistic regressions for is-security, for the article's categories and
for each paragraph's categories (from the corpus's paragraph annotations; see
:mod:`pipeline.classify`). The model is
fitted on the splits ``[model] fit_splits`` names (train and dev by default). Its thresholds are
chosen on out-of-fold scores of those splits (``[thresholds] source = "cross_validation"``) or
on the dev split (``"dev"``, when only train is fitted). The test split is only scored.
"""
from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
import tomllib
from dataclasses import replace
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from . import corpus as corpus_module
from .classify import CARD_FILE, MODEL_FILE, ThreatModel, classifier_text, load_taxonomy
from .metrics import classification_scores
from .normalize import normalize
from .segment import tokenize

from .paths import PROJECT_ROOT
RANDOM_STATE = 0


def segmented(text: str) -> str:
    """The classifier's input for one article: its normalised, word-segmented text, a line per
    paragraph (:func:`pipeline.classify.classifier_text`)."""
    normalised = normalize(text).text
    return classifier_text(normalised, tokenize(normalised))


def _paragraph_rows(texts: list[str], rows: list[dict[str, Any]], labels: list[str]) -> tuple[list[str], np.ndarray]:
    """Paragraph texts and their label matrix (n_paragraphs, len(labels)) from the articles that
    have paragraph annotations."""
    paragraphs, y = [], []
    for text, row in zip(texts, rows):
        annotated = row.get("paragraph_categories")
        if annotated is None:
            continue
        pieces = text.split("\n")
        if len(pieces) != len(annotated):
            raise ValueError(f"{row['id']}: {len(annotated)} paragraph annotations for {len(pieces)} paragraphs")
        paragraphs += pieces
        y += [[label in categories for label in labels] for categories in annotated]
    return paragraphs, np.array(y, dtype=int).reshape(len(y), len(labels))


def _features(cfg: dict[str, Any]) -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(token_pattern=r"\S+", ngram_range=tuple(cfg["word_ngram_range"]),
                                  min_df=cfg["word_min_df"], max_features=cfg["word_max_features"],
                                  sublinear_tf=cfg["sublinear_tf"], lowercase=True, dtype=np.float64)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg["char_ngram_range"]),
                                  min_df=cfg["char_min_df"], max_features=cfg["char_max_features"],
                                  sublinear_tf=cfg["sublinear_tf"], lowercase=True, dtype=np.float64)),
    ])


def _logistic(C: float, cfg: dict[str, Any]) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight=cfg["class_weight"], max_iter=cfg["max_iter"],
                              solver="liblinear", random_state=RANDOM_STATE)


def _best_threshold(scores: np.ndarray, gold: np.ndarray, grid: np.ndarray) -> float:
    if gold.sum() == 0:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for threshold in grid:
        pred = scores >= threshold
        tp = float((pred & gold).sum())
        f1 = 2 * tp / (pred.sum() + gold.sum()) if pred.sum() + gold.sum() else 0.0
        # Ties go to the threshold nearest 0.5: the least tuned choice.
        if f1 > best_f1 + 1e-9 or (abs(f1 - best_f1) <= 1e-9 and abs(threshold - 0.5) < abs(best - 0.5)):
            best, best_f1 = float(threshold), f1
    return round(best, 4)


def _score(model: ThreatModel, texts: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    predictions = model.predict(texts)
    gold = [(bool(r["is_security"]), set(r["categories"])) for r in rows]
    pred = [(p["is_security"], set(p["categories"])) for p in predictions]
    scores = classification_scores(gold, pred)
    scores["summary"] = {"is_security_f1": scores["is_security"]["f1"],
                         "micro_f1": scores["categories_micro"]["f1"],
                         "macro_f1": scores["categories_macro_f1"], "articles": len(rows)}
    return scores


def _fit(cfg: dict[str, Any], C: float, texts: list[str], rows: list[dict[str, Any]], labels: list[str]) -> ThreatModel:
    """Features and the three classifiers fitted on ``texts`` (thresholds still to be chosen)."""
    model_cfg = cfg["model"]
    features = _features(cfg["features"])
    x = features.fit_transform(texts)
    y = np.array([[label in r["categories"] for label in labels] for r in rows], dtype=int)
    paragraphs, y_paragraphs = _paragraph_rows(texts, rows, labels)
    if not paragraphs:
        raise ValueError("no article of the fitted splits has paragraph annotations (paragraph_categories)")
    return ThreatModel(
        labels=labels, features=features,
        security=_logistic(float(model_cfg["security_C"]), model_cfg).fit(x, [bool(r["is_security"]) for r in rows]),
        categories=OneVsRestClassifier(_logistic(C, model_cfg)).fit(x, y),
        paragraphs=OneVsRestClassifier(_logistic(C, model_cfg)).fit(features.transform(paragraphs), y_paragraphs),
        thresholds={label: 0.5 for label in labels}, security_threshold=0.5, implies={})


def _external_scores(model: ThreatModel, cfg: dict[str, Any], root: Path) -> dict[str, Any]:
    """Scores on annotated sets we did not write (``[report] external``), when they are present.
    Only reported in the card: nothing is fitted or chosen on them."""
    scores = {}
    for name in cfg.get("report", {}).get("external", []):
        path = (root / name).resolve()
        if path.exists():
            rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
            scores[f"external:{name}"] = _score(model, [segmented(r["text"]) for r in rows], rows)["summary"]
    return scores


def train_from_config(config_path: str | Path, output: str | Path | None = None, console=None) -> dict[str, Any]:
    started = time.perf_counter()
    with open(config_path, "rb") as handle:
        cfg = tomllib.load(handle)
    root = PROJECT_ROOT
    corpus_dir = root / cfg["data"]["corpus"]
    taxonomy = load_taxonomy(root / cfg["data"]["taxonomy"])
    labels = list(taxonomy)
    implies = {label: list(spec.get("implies", [])) for label, spec in taxonomy.items() if spec.get("implies")}

    splits = {split: corpus_module.read_split(split, corpus_dir) for split in corpus_module.SPLITS}
    texts: dict[str, list[str]] = {}
    progress = None
    if console is not None:
        from rich.progress import Progress

        progress = Progress(console=console, transient=True)
        progress.start()
    try:
        for split, rows in splits.items():
            task = progress.add_task(f"segmenting {split}", total=len(rows)) if progress else None
            texts[split] = []
            for row in rows:
                texts[split].append(segmented(row["text"]))
                if progress:
                    progress.advance(task)
        if progress:
            progress.add_task("fitting", total=None)
        model_cfg = cfg["model"]
        fit_splits = list(model_cfg.get("fit_splits", ["train"]))
        fit_rows = [r for split in fit_splits for r in splits[split]]
        fit_texts = [t for split in fit_splits for t in texts[split]]
        y_train = np.array([[label in r["categories"] for label in labels] for r in fit_rows], dtype=int)
        folds = KFold(cfg.get("search", {}).get("folds", 5), shuffle=True, random_state=RANDOM_STATE)
        C = float(model_cfg["C"])
        search = cfg.get("search", {})
        cv_report = None
        if search.get("C"):
            grid = GridSearchCV(
                Pipeline([("features", _features(cfg["features"])),
                          ("classifier", OneVsRestClassifier(_logistic(C, model_cfg)))]),
                {"classifier__estimator__C": [float(c) for c in search["C"]]},
                scoring="f1_micro", cv=folds,
            )
            grid.fit(fit_texts, y_train)
            C = float(grid.best_params_["classifier__estimator__C"])
            cv_report = {"C": [float(c) for c in search["C"]],
                         "mean_f1_micro": [round(float(s), 4) for s in grid.cv_results_["mean_test_score"]],
                         "chosen_C": C}
        threshold_source = cfg["thresholds"].get("source", "dev")
        if threshold_source == "cross_validation":
            # Out-of-fold scores for every fitted article: thresholds chosen on all of them, not
            # on a small dev split, and without the model having seen the article.
            # One feature fit per fold serves the three classifiers.
            oof_categories = np.zeros(y_train.shape)
            oof_security = np.zeros(len(fit_texts))
            for inside, outside in folds.split(fit_texts):
                fold = _fit(cfg, C, [fit_texts[i] for i in inside], [fit_rows[i] for i in inside], labels)
                oof_security[outside], oof_categories[outside] = fold.probabilities([fit_texts[i] for i in outside])
        elif "dev" in fit_splits:
            raise ValueError("thresholds chosen on dev need a model that is not fitted on dev")
        fitted = _fit(cfg, C, fit_texts, fit_rows, labels)
        for _, vectorizer in fitted.features.transformer_list:
            # numpy ints would each become a separate array in the skops file; plain ints are
            # stored inline, which makes the file several times smaller and faster to load.
            vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
    finally:
        if progress:
            progress.stop()

    t = cfg["thresholds"]
    grid_values = np.round(np.arange(t["grid_min"], t["grid_max"] + 1e-9, t["grid_step"]), 4)
    if threshold_source == "cross_validation":
        threshold_rows, threshold_security, threshold_categories = fit_rows, oof_security, oof_categories
    else:
        threshold_rows = splits["dev"]
        threshold_security, threshold_categories = fitted.probabilities(texts["dev"])
    security_threshold = _best_threshold(
        threshold_security, np.array([bool(r["is_security"]) for r in threshold_rows]), grid_values)
    thresholds = {}
    for index, label in enumerate(labels):
        gold = np.array([label in r["categories"] for r in threshold_rows])
        thresholds[label] = _best_threshold(threshold_categories[:, index], gold, grid_values)

    out_cfg = cfg["output"]
    model = replace(fitted, thresholds=thresholds, security_threshold=security_threshold, implies=implies,
                    version=out_cfg["version"])
    out_dir = Path(output) if output else root / out_cfg["dir"]
    model_path = model.save(out_dir)
    loaded = ThreatModel.load(out_dir)  # score what was written, through the safe loader
    card = {
        "name": "threat-classifier",
        "version": out_cfg["version"],
        "task": "multi-label threat categories of Vietnamese news, plus is-security",
        "labels": labels,
        "format": "skops",
        "file": MODEL_FILE,
        "file_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "training_data": {"corpus": cfg["data"]["corpus"], "hash": corpus_module.corpus_hash(corpus_dir),
                          "articles": {s: len(r) for s, r in splits.items()},
                          "annotated_paragraphs_fitted": sum(len(r.get("paragraph_categories") or []) for r in fit_rows)},
        "hyperparameters": {"features": cfg["features"], "model": {**model_cfg, "C": C},
                            "thresholds": thresholds, "security_threshold": security_threshold},
        "cross_validation": cv_report,
        "fitted_on": fit_splits,
        "threshold_source": threshold_source,
        "metrics": ({"dev": _score(loaded, texts["dev"], splits["dev"])} if "dev" not in fit_splits else {})
                   | {"test": _score(loaded, texts["test"], splits["test"])} | _external_scores(loaded, cfg, root),
        "libraries": {name: package_version(name) for name in
                      ("scikit-learn", "skops", "numpy", "scipy", "underthesea", "underthesea-core")}
                     | {"python": platform.python_version()},
        "training_seconds": round(time.perf_counter() - started, 1),
        "command": f"vnsec train --config {config_path}",
        "notes": f"Fitted on {' + '.join(fit_splits)}; thresholds chosen on "
                 f"{'out-of-fold scores of those splits' if threshold_source == 'cross_validation' else 'dev'}; "
                 "test metrics are held out. Trained on our own written corpus only; see corpora/README.md "
                 "for its biases.",
    }
    (out_dir / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    return card


if __name__ == "__main__":  # pragma: no cover
    train_from_config(sys.argv[1] if len(sys.argv) > 1 else PROJECT_ROOT / "configs" / "train.toml")
