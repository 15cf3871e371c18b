"""Stage 5, classify: threat categories (multi-label) and "is this security news at all".

The model is a scikit-learn bundle stored with skops in ``models/threat-classifier/``: one
TF-IDF ``FeatureUnion`` over the segmented text, shared by a binary ``LogisticRegression`` (is it
security news), a one-vs-rest ``LogisticRegression`` over the taxonomy for the whole article, and
another for single paragraphs, trained on paragraph annotations. A category's score is the mean
of the article's score and its best paragraph's: a subject reported in one paragraph of a long
article is not drowned by the rest, and a word in passing does not make a paragraph about it.
Per-label thresholds apply to that score. Loading trusts only the types listed in
:data:`TRUSTED_TYPES`; a file that holds anything else is refused.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import skops.io as sio

from .doc import Doc, Token
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


class _TfidfOfOneText:
    """What a fitted ``TfidfVectorizer`` (word n-grams over ``\\S+`` tokens, or ``char_wb``) gives
    for one text, as (column indices, values), without scikit-learn's per-call overhead; the
    n-grams of each word are looked up once and cached, since words repeat across articles."""

    def __init__(self, vectorizer: Any):
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.sublinear = vectorizer.sublinear_tf
        self.lowercase = vectorizer.lowercase
        self.low, self.high = vectorizer.ngram_range
        self.chars = vectorizer.analyzer == "char_wb"
        self.supported = (vectorizer.analyzer == "char_wb" or (
            vectorizer.analyzer == "word" and vectorizer.token_pattern == r"\S+" and vectorizer.tokenizer is None
            and vectorizer.stop_words is None)) and vectorizer.norm == "l2" and vectorizer.use_idf \
            and vectorizer.preprocessor is None and vectorizer.strip_accents is None
        self._char_ids = lru_cache(maxsize=200_000)(self._char_ngram_ids)

    def _char_ngram_ids(self, word: str) -> tuple[int, ...]:
        padded = f" {word} "
        grams = []
        for n in range(self.low, self.high + 1):
            if len(padded) <= n:  # as scikit-learn: then the whole padded word, once, and no longer n
                grams.append(padded)
                break
            grams += [padded[start:start + n] for start in range(len(padded) - n + 1)]
        return tuple(index for index in map(self.vocabulary.get, grams) if index is not None)

    def counts(self, text: str) -> Counter:
        """Column index -> count of its n-gram in ``text``."""
        if self.lowercase:
            text = text.lower()
        if self.chars:
            return Counter(chain.from_iterable(map(self._char_ids, text.split())))
        tokens = text.split()
        grams = chain.from_iterable(map(" ".join, zip(*(tokens[k:] for k in range(n))))
                                    for n in range(self.low, self.high + 1))
        return Counter(index for index in map(self.vocabulary.get, grams) if index is not None)

    def vector(self, counts: Counter) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of those counts, as (column indices, values)."""
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            values = np.log(values) + 1.0
        values *= self.idf[indices]
        return indices, values / np.sqrt(np.dot(values, values))


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


def classifier_text(text: str, tokens: Sequence[Token]) -> str:
    """The classifier's input for an article: its segmented words (``word_tokenize(...,
    format="text")``), one line per paragraph (non-empty line of ``text``, in order; a word belongs
    to the paragraph it starts in, so a paragraph can be empty when underthesea joined it to the
    one before)."""
    starts, offset = [], 0
    for line in text.split("\n"):
        if line.strip():
            starts.append(offset)
        offset += len(line) + 1
    paragraphs: list[list[str]] = [[] for _ in starts]
    index = 0
    for token in tokens:
        while index + 1 < len(starts) and token.start >= starts[index + 1]:
            index += 1
        if paragraphs:
            paragraphs[index].append(token.segmented)
    return "\n".join(" ".join(words) for words in paragraphs)


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
    categories: fitted classifier on articles, ``predict_proba`` -> (n, len(labels)).
    paragraphs: fitted classifier on single paragraphs (same features), ``predict_proba`` ->
    (n_paragraphs, len(labels)).
    thresholds: per-label decision thresholds; security_threshold: for ``is_security``.
    implies: label -> labels it always brings along (ransomware -> malware).
    """

    labels: list[str]
    features: Any
    security: Any
    categories: Any
    paragraphs: Any
    thresholds: dict[str, float]
    security_threshold: float
    implies: dict[str, list[str]]
    version: str = "unversioned"

    def __post_init__(self) -> None:
        # One sparse product for all labels instead of 25 scikit-learn calls per text: the same
        # logistic probabilities, a few times faster on one document.
        linear = [self.security, *getattr(self.categories, "estimators_", []),
                  *getattr(self.paragraphs, "estimators_", [])]
        self._fast = len(linear) == 1 + 2 * len(self.labels) and all(
            hasattr(e, "coef_") and e.coef_.shape[0] == 1 for e in linear)
        if self._fast:
            self._weights = np.vstack([e.coef_[0] for e in linear]).T  # (n_features, 1 + 2 n_labels)
            self._bias = np.array([e.intercept_[0] for e in linear])
        parts = [t for _, t in getattr(self.features, "transformer_list", [])]
        self._one_text = [_TfidfOfOneText(t) for t in parts] if self._fast else []
        if not (self._one_text and all(p.supported for p in self._one_text)):
            self._one_text = []
        self._offsets = np.cumsum([0] + [len(t.vocabulary_) for t in parts])[:-1] if self._one_text else []

    def _logits_of_counts(self, counts: list[Counter]) -> np.ndarray:
        logits = self._bias.copy()
        for part, offset, part_counts in zip(self._one_text, self._offsets, counts):
            indices, values = part.vector(part_counts)
            if len(indices):
                logits += values @ self._weights[indices + offset]
        return logits

    def _logits_of_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Logits (1 + 2 n_labels,) of one text, and of each of its paragraphs (n_paragraphs, ...).
        Character n-grams stay within words, so the article's character counts are the sum of its
        paragraphs': counted once. Word n-grams cross paragraph breaks, so they are counted on the
        whole text."""
        by_paragraph = [[part.counts(p) for part in self._one_text] for p in text.split("\n")]
        article = []
        for index, part in enumerate(self._one_text):
            if part.chars:
                total = Counter()
                for counts in by_paragraph:
                    total.update(counts[index])
                article.append(total)
            else:
                article.append(part.counts(text))
        return self._logits_of_counts(article), np.array([self._logits_of_counts(c) for c in by_paragraph])

    def _logits(self, texts: list[str]) -> np.ndarray:
        if hasattr(self.features, "transformer_list"):
            # FeatureUnion.transform goes through joblib even for one job; stacking is all it does.
            features = sp.hstack([t.transform(texts) for _, t in self.features.transformer_list], format="csr")
        else:
            features = self.features.transform(texts)
        return np.asarray(features @ self._weights) + self._bias

    def bundle(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "features": self.features, "security": self.security,
                "categories": self.categories, "paragraphs": self.paragraphs,
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
        expected = {"labels", "features", "security", "categories", "paragraphs", "thresholds", "security_threshold",
                    "implies"}
        if not isinstance(bundle, dict) or set(bundle) != expected:
            raise ValueError(f"{path} is not a threat model bundle (expected keys {sorted(expected)})")
        card_path = folder / CARD_FILE
        version = "unversioned"
        if card_path.exists():
            version = json.loads(card_path.read_text(encoding="utf-8")).get("version", version)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(version=f"{version}+sha256.{digest}", **bundle)

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """For n texts in :func:`classifier_text` form: the articles' is-security probabilities (n,),
        and category scores (n, len(labels)), each the mean of the article's probability and its
        best paragraph's."""
        texts = list(texts)
        paragraphs = [text.split("\n") for text in texts]
        flat = [p for ps in paragraphs for p in ps]
        owners = np.repeat(np.arange(len(texts)), [len(ps) for ps in paragraphs])
        n_labels = len(self.labels)
        if self._fast:
            if self._one_text and len(texts) == 1:
                article_logits, paragraph_logits = self._logits_of_one(texts[0])
                article_logits = article_logits[None, :]
            else:
                article_logits, paragraph_logits = self._logits(texts), self._logits(flat)
            article = 1.0 / (1.0 + np.exp(-article_logits))
            security, categories = article[:, 0], article[:, 1:1 + n_labels]
            by_paragraph = 1.0 / (1.0 + np.exp(-paragraph_logits[:, 1 + n_labels:]))
        else:
            features = self.features.transform(texts)
            security = self.security.predict_proba(features)[:, 1]
            categories = np.asarray(self.categories.predict_proba(features))
            by_paragraph = np.asarray(self.paragraphs.predict_proba(self.features.transform(flat)))
        best = np.zeros((len(texts), n_labels))
        np.maximum.at(best, owners, by_paragraph)
        return security, (categories + best) / 2

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Threat fields for texts in :func:`classifier_text` form (segmented words, a line per
        paragraph; one line is one paragraph).

        Returns one dict per text: ``is_security`` (bool), ``security_score`` (float),
        ``categories`` (ids above their threshold, highest score first), ``scores`` (id -> float).
        """
        if not texts:
            return []
        return self._decide(*self.probabilities(texts))

    def _decide(self, security: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
        """Threat fields from probabilities: security (n,), scores (n, len(labels))."""
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
        doc.threat = threat_model.predict([classifier_text(doc.text, doc.tokens)])[0]
        return doc

    run.model_version = threat_model.version  # type: ignore[attr-defined]
    run.model_name = "threat-classifier"  # type: ignore[attr-defined]
    return run
