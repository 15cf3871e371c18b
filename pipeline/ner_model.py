"""A statistical tagger for organisations and people: a linear-chain CRF (CRFsuite) over
underthesea's words, trained on our annotated corpus, with gazetteer features.

It proposes mentions the gazetteers and rules do not know (``Rosneft``, ``Bộ Nội vụ Nga``); the
entity stage (:mod:`pipeline.entities`) merges them with its own. The model is CRFsuite's own
binary format: it holds weights and feature strings only, nothing that executes.
"""
from __future__ import annotations

import hashlib
import json
import platform
import random
import time
from functools import lru_cache
import tomllib
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Iterable, Sequence

import pycrfsuite

from .doc import Span, Token
from .gazetteer import Gazetteer

MODEL_FILE = "model.crfsuite"
CARD_FILE = "card.json"
LABELS = ("ORG", "PER")


def _shape(word: str) -> str:
    out = []
    for ch in word:
        kind = "X" if ch.isupper() else "x" if ch.isalpha() else "d" if ch.isdigit() else ch
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:8]


class FeatureExtractor:
    """Token features: the word, its shape, its neighbours and what the gazetteers say."""

    def __init__(self, gazetteer: Gazetteer):
        self.g = gazetteer
        self._titles = {t.lower().rstrip(".") for t in gazetteer.titles}
        self._roles = {r.lower() for r in gazetteer.role_words}
        # Words repeat across articles; their own features are computed once.
        self._word_features = lru_cache(maxsize=200_000)(self._features_of_word)
        self._context = lru_cache(maxsize=400_000)(self._as_context)

    def _lexical(self, words: Sequence[str], i: int) -> list[str]:
        word = words[i]
        feats = list(self._word_features(word))
        pair = f"{word} {words[i + 1]}" if i + 1 < len(words) else ""
        prev_pair = f"{words[i - 1]} {word}" if i > 0 else ""
        if pair in self.g.organizations or prev_pair in self.g.organizations:
            feats.append("gaz_org_pair")
        return feats

    def _features_of_word(self, word: str) -> tuple[str, ...]:
        syllables = word.split(" ")
        feats = [f"w={word.lower()}", f"shape={_shape(word)}", f"n={min(len(syllables), 4)}",
                 f"suf={word[-3:].lower()}", f"pre={word[:3].lower()}"]
        if all(s[:1].isupper() for s in syllables):
            feats.append("title")
        if word.isupper() and len(word) > 1:
            feats.append("upper")
        if word in self.g.organizations:
            feats.append(f"gaz_org={self.g.organizations[word][1]}")
        if word in self.g.not_organizations:
            feats.append(f"gaz_not={self.g.not_organizations[word]}")
        if syllables[0] in self.g.surnames:
            feats.append("surname")
        if syllables[0] in self.g.foreign_given_names:
            feats.append("given_foreign")
        lower = word.lower()
        if lower.rstrip(".") in self._titles:
            feats.append("title_word")
        if lower in self._roles:
            feats.append("role_word")
        return tuple(feats)

    def _as_context(self, word: str, offset: int) -> tuple[str, ...]:
        return tuple(f"{offset}:{f}" for f in self._word_features(word) if not f.startswith(("suf=", "pre=")))

    def sequence(self, words: Sequence[str], last_line: bool = False) -> list[list[str]]:
        base = [self._lexical(words, i) for i in range(len(words))]
        paired = ["gaz_org_pair" in feats for feats in base]
        out = []
        for i in range(len(words)):
            feats = ["bias", *base[i]]
            for offset in (-2, -1, 1, 2):
                j = i + offset
                if 0 <= j < len(words):
                    feats += self._context(words[j], offset)
                    if paired[j]:
                        feats.append(f"{offset}:gaz_org_pair")
                else:
                    feats.append(f"{offset}:edge")
            if last_line:
                feats.append("last_line")
            out.append(feats)
        return out


def lines_of(text: str, tokens: Sequence[Token]) -> list[list[int]]:
    """Token indices grouped by line: a CRF sequence is one line of the article."""
    groups: list[list[int]] = [[]]
    for index, token in enumerate(tokens):
        if groups[-1] and "\n" in text[tokens[groups[-1][-1]].end:token.start]:
            groups.append([])
        groups[-1].append(index)
    return [g for g in groups if g]


def bio_labels(tokens: Sequence[Token], mentions: Iterable[tuple[int, int, str]]) -> list[str]:
    labels = ["O"] * len(tokens)
    for start, end, label in mentions:
        inside = [i for i, t in enumerate(tokens) if t.start < end and start < t.end]
        for n, i in enumerate(inside):
            labels[i] = ("B-" if n == 0 else "I-") + label
    return labels


class CrfTagger:
    """Loads a trained model and tags a segmented text."""

    def __init__(self, folder: str | Path, gazetteer: Gazetteer):
        path = Path(folder) / MODEL_FILE
        self.tagger = pycrfsuite.Tagger()
        self.tagger.open(str(path))
        self.features = FeatureExtractor(gazetteer)
        card = Path(folder) / CARD_FILE
        version = json.loads(card.read_text(encoding="utf-8")).get("version", "unversioned") if card.exists() else "unversioned"
        self.version = f"{version}+sha256.{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"

    def spans(self, text: str, tokens: Sequence[Token]) -> list[Span]:
        found: list[Span] = []
        groups = lines_of(text, tokens)
        for n, group in enumerate(groups):
            words = [tokens[i].text for i in group]
            tags = self.tagger.tag(self.features.sequence(words, last_line=n == len(groups) - 1))
            start = label = None
            end = 0
            for i, tag in zip(group, tags + ["O"]):
                if label and not (tag.startswith("I-") and tag[2:] == label):
                    found.append(Span(start, end, label, text[start:end]))
                    label = None
                if tag.startswith("B-") or (tag.startswith("I-") and label is None):
                    start, label = tokens[i].start, tag[2:]
                if label:
                    end = tokens[i].end
            if label:
                found.append(Span(start, end, label, text[start:end]))
        return found


def train(config_path: str | Path, root: Path, output: str | Path | None = None) -> dict[str, Any]:
    """Train the CRF on the corpus's train split; score mentions on dev and test."""
    from . import corpus as corpus_module
    from .normalize import normalize
    from .segment import tokenize

    started = time.perf_counter()
    with open(config_path, "rb") as handle:
        cfg = tomllib.load(handle)["ner"]
    corpus_dir = root / cfg["corpus"]
    gazetteer = Gazetteer.load(root / cfg["gazetteers"])
    extractor = FeatureExtractor(gazetteer)

    def sequences(rows):
        for row in rows:
            text = normalize(row["text"]).text
            tokens = tokenize(text)
            mentions = [(m["start"], m["end"], label)
                        for kind, label in (("organizations", "ORG"), ("people", "PER"))
                        for entity in row[kind] for m in entity["mentions"]]
            labels = bio_labels(tokens, mentions)
            groups = lines_of(text, tokens)
            for n, group in enumerate(groups):
                words = [tokens[i].text for i in group]
                yield row["id"], extractor.sequence(words, last_line=n == len(groups) - 1), [labels[i] for i in group]

    trainer = pycrfsuite.Trainer(verbose=False)
    train_rows = corpus_module.read_split("train", corpus_dir)
    random.Random(0).shuffle(train_rows)
    for _id, x, y in sequences(train_rows):
        trainer.append(x, y)
    trainer.set_params({"c1": cfg["c1"], "c2": cfg["c2"], "max_iterations": cfg["max_iterations"],
                        "feature.possible_transitions": True})
    out_dir = Path(output) if output else root / cfg["output"]
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out_dir / MODEL_FILE))
    (out_dir / CARD_FILE).write_text("{}", encoding="utf-8")
    tagger = CrfTagger(out_dir, gazetteer)

    def score(split):
        tp = n_pred = n_gold = 0
        for row in corpus_module.read_split(split, corpus_dir):
            text = normalize(row["text"]).text
            gold = {(m["start"], m["end"], label) for kind, label in (("organizations", "ORG"), ("people", "PER"))
                    for entity in row[kind] for m in entity["mentions"]}
            pred = {(s.start, s.end, s.label) for s in tagger.spans(text, tokenize(text))}
            tp, n_pred, n_gold = tp + len(gold & pred), n_pred + len(pred), n_gold + len(gold)
        p, r = tp / max(1, n_pred), tp / max(1, n_gold)
        return {"mention_p": round(p, 4), "mention_r": round(r, 4),
                "mention_f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}

    model_bytes = (out_dir / MODEL_FILE).read_bytes()
    card = {
        "name": "entity-crf", "version": cfg["version"], "format": "crfsuite", "file": MODEL_FILE,
        "file_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "task": "BIO tagging of organisations (ORG) and people (PER) over underthesea words",
        "training_data": {"corpus": cfg["corpus"], "hash": corpus_module.corpus_hash(corpus_dir),
                          "gazetteers": cfg["gazetteers"]},
        "hyperparameters": {k: cfg[k] for k in ("c1", "c2", "max_iterations")},
        "metrics": {"dev": score("dev"), "test": score("test"),
                    "note": "exact mention spans (start, end, label) against our corpus annotations"},
        "libraries": {name: package_version(name) for name in ("python-crfsuite", "underthesea")}
                     | {"python": platform.python_version()},
        "training_seconds": round(time.perf_counter() - started, 1),
        "command": f"vnsec train-ner --config {config_path}",
    }
    (out_dir / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    return card
