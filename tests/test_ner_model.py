"""The entity CRF: training from a config, and the shipped model on held-out articles."""
from pathlib import Path

import pytest

from pipeline.corpus import read_split, write_subset
from pipeline.gazetteer import Gazetteer
from pipeline.language import PROJECT_ROOT
from pipeline.ner_model import CrfTagger, bio_labels, train
from pipeline.normalize import normalize
from pipeline.segment import tokenize

GAZETTEERS = PROJECT_ROOT / "corpora" / "gazetteers"


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer.load(GAZETTEERS)


def test_bio_labels_follow_mentions():
    text = "Ông Nguyễn Văn Nam làm việc tại Bkav."
    tokens = tokenize(text)
    labels = bio_labels(tokens, [(4, 18, "PER"), (32, 36, "ORG")])
    tagged = [(t.text, label) for t, label in zip(tokens, labels) if label != "O"]
    assert tagged[0][1] == "B-PER" and tagged[-1] == ("Bkav", "B-ORG")


def test_shipped_model_on_held_out_articles(gazetteer):
    tagger = CrfTagger(PROJECT_ROOT / "models" / "entity-crf", gazetteer)
    tp = n_pred = n_gold = 0
    for row in read_split("test"):
        text = normalize(row["text"]).text
        gold = {(m["start"], m["end"]) for kind in ("organizations", "people")
                for e in row[kind] for m in e["mentions"]}
        pred = {(s.start, s.end) for s in tagger.spans(text, tokenize(text))}
        tp, n_pred, n_gold = tp + len(gold & pred), n_pred + len(pred), n_gold + len(gold)
    precision, recall = tp / n_pred, tp / n_gold
    assert precision > 0.8 and recall > 0.75


def test_training_from_a_config(tmp_path):
    corpus = write_subset(tmp_path / "corpus", {"train": 60, "dev": 10, "test": 10})
    config = tmp_path / "ner.toml"
    config.write_text(f'[ner]\ncorpus = "{corpus}"\ngazetteers = "{GAZETTEERS}"\noutput = "{tmp_path / "model"}"\n'
                      'version = "test"\nc1 = 0.05\nc2 = 0.01\nmax_iterations = 30\n', encoding="utf-8")
    card = train(config, Path("/"))
    assert (tmp_path / "model" / "model.crfsuite").exists()
    assert card["training_data"]["hash"].startswith("sha256:")
    assert 0 <= card["metrics"]["test"]["mention_f1"] <= 1
    assert card["command"].startswith("vnsec train-ner")
