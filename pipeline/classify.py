"""Stage 5, classify: threat categories (multi-label) and "is this security news at all".

The model is a scikit-learn bundle stored with skops in ``models/threat-classifier/``: one
TF-IDF ``FeatureUnion`` over the segmented text, shared by a binary ``LogisticRegression`` (is it
security news) and a one-vs-rest ``LogisticRegression`` over the taxonomy, plus per-label
thresholds chosen on our dev split. Features are computed once per article for both. Loading trusts only the types
listed in :data:`TRUSTED_TYPES`; a file that holds anything else is refused.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import skops.io as sio

from .doc import Doc
from .registry import stage

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
SCORE_DECIMALS = 4

TRUSTED_TYPES = [
    "builtins.dict", "builtins.list", "builtins.float", "builtins.int", "builtins.str",
    "builtins.tuple", "builtins.slice",
    "numpy.dtype", "numpy.ndarray", "numpy.float64", "numpy.int64", "numpy.int32",
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    "scipy.sparse._csr.csr_matrix", "scipy.sparse._csr.csr_array",
    "sklearn.pipeline.Pipeline", "sklearn.pipeline.FeatureUnion",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.svm._classes.LinearSVC",
]


def types_in(path: str | Path) -> set[str]:
    """Every type a skops file would build (``module.Class``), read from its schema without
    building anything. skops trusts many types by default; we trust only our own list."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_taxonomy(path: str | Path) -> dict[str, dict[str, Any]]:
    """Category id -> its table from ``configs/taxonomy.toml``, in file order."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)["categories"]


@dataclass
class ThreatModel:
    """A loaded threat classifier.

    labels: category ids, in the column order of ``scores``.
    features: fitted transformer, list of n segmented texts -> sparse (n, n_features).
    security: fitted classifier, ``predict_proba`` -> (n, 2).
    categories: fitted classifier, ``predict_proba`` -> (n, len(labels)).
    thresholds: per-label decision thresholds; security_threshold: for ``is_security``.
    implies: label -> labels it always brings along (ransomware -> malware).
    """

    labels: list[str]
    features: Any
    security: Any
    categories: Any
    thresholds: dict[str, float]
    security_threshold: float
    implies: dict[str, list[str]]
    version: str = "unversioned"

    def __post_init__(self) -> None:
        # One sparse product for all labels instead of thirteen scikit-learn calls per article:
        # the same logistic probabilities, a few times faster on one document.
        estimators = list(getattr(self.categories, "estimators_", []))
        linear = [self.security, *estimators]
        self._fast = all(hasattr(e, "coef_") and e.coef_.shape[0] == 1 for e in linear)
        if self._fast:
            self._weights = np.vstack([e.coef_[0] for e in linear]).T  # (n_features, 1 + n_labels)
            self._bias = np.array([e.intercept_[0] for e in linear])

    def bundle(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "features": self.features, "security": self.security, "categories": self.categories,
                "thresholds": dict(self.thresholds), "security_threshold": float(self.security_threshold),
                "implies": {k: list(v) for k, v in self.implies.items()}}

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        sio.dump(self.bundle(), path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "ThreatModel":
        folder = Path(folder)
        path = folder / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(f"no threat model at {path}: run `vnsec train` to build one")
        untrusted = sorted(types_in(path) - set(TRUSTED_TYPES))
        if untrusted:
            raise ValueError(f"{path} holds types we do not trust: {', '.join(untrusted)}")
        bundle = sio.load(path, trusted=TRUSTED_TYPES)
        expected = {"labels", "features", "security", "categories", "thresholds", "security_threshold", "implies"}
        if not isinstance(bundle, dict) or set(bundle) != expected:
            raise ValueError(f"{path} is not a threat model bundle (expected keys {sorted(expected)})")
        card_path = folder / CARD_FILE
        version = "unversioned"
        if card_path.exists():
            version = json.loads(card_path.read_text(encoding="utf-8")).get("version", version)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(version=f"{version}+sha256.{digest}", **bundle)

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Threat fields for segmented texts (``word_tokenize(..., format="text")`` output).

        Returns one dict per text: ``is_security`` (bool), ``security_score`` (float),
        ``categories`` (ids above their threshold, highest score first), ``scores`` (id -> float).
        """
        if not texts:
            return []
        if self._fast and hasattr(self.features, "transformer_list"):
            # FeatureUnion.transform goes through joblib even for one job; stacking is all it does.
            features = sp.hstack([t.transform(list(texts)) for _, t in self.features.transformer_list], format="csr")
        else:
            features = self.features.transform(list(texts))
        if self._fast:
            logits = np.asarray(features @ self._weights) + self._bias
            probabilities = 1.0 / (1.0 + np.exp(-logits))
            security, scores = probabilities[:, 0], probabilities[:, 1:]
        else:
            security = self.security.predict_proba(features)[:, 1]
            scores = np.asarray(self.categories.predict_proba(features))
        results = []
        for row, security_score in zip(scores, security):
            by_label = {label: round(float(p), SCORE_DECIMALS) for label, p in zip(self.labels, row)}
            is_security = bool(security_score >= self.security_threshold)
            chosen: list[str] = []
            if is_security:
                chosen = [label for label in self.labels if by_label[label] >= self.thresholds[label]]
                if not chosen:
                    chosen = [max(self.labels, key=lambda label: by_label[label])]
                for label in list(chosen):
                    chosen += [implied for implied in self.implies.get(label, []) if implied not in chosen]
                chosen.sort(key=lambda label: (-by_label[label], label))
            results.append({"is_security": is_security,
                            "security_score": round(float(security_score), SCORE_DECIMALS),
                            "categories": chosen, "scores": by_label})
        return results


@stage("classify")
def classify_stage(model: str = "models/threat-classifier", root: str | Path = "."):
    threat_model = ThreatModel.load(Path(root) / model)

    def run(doc: Doc) -> Doc:
        doc.threat = threat_model.predict([doc.segmented_text])[0]
        return doc

    run.model_version = threat_model.version  # type: ignore[attr-defined]
    run.model_name = "threat-classifier"  # type: ignore[attr-defined]
    return run
