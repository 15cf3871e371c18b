"""Training the threat classifier from a config: reproducible, searched, carded."""
import json
import re

import pytest

from pipeline.classify import ThreatModel
from pipeline.corpus import read_split, write_subset
from pipeline.language import PROJECT_ROOT
from pipeline.train import segmented, train_from_config


@pytest.fixture(scope="module")
def small_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    corpus = write_subset(folder / "corpus", {"train": 200, "dev": 50, "test": 50})
    shipped = (PROJECT_ROOT / "configs" / "train.toml").read_text(encoding="utf-8")
    config = folder / "train.toml"
    shipped = re.sub(r"(?m)^C = \[.*\]$", "C = [1.0, 8.0]", shipped)
    config.write_text(
        shipped.replace('corpus = "corpora/vnsec-news"', f'corpus = "{corpus}"')
        .replace('taxonomy = "configs/taxonomy.toml"', f'taxonomy = "{PROJECT_ROOT / "configs" / "taxonomy.toml"}"')
        .replace("folds = 5", "folds = 3"),
        encoding="utf-8")
    return folder, config


def test_same_corpus_and_config_give_the_same_model(small_config):
    folder, config = small_config
    first = train_from_config(config, output=folder / "a")
    second = train_from_config(config, output=folder / "b")
    assert first["metrics"] == second["metrics"]
    assert first["hyperparameters"] == second["hyperparameters"]
    assert first["cross_validation"]["chosen_C"] in (1.0, 8.0)
    texts = [segmented(r["text"]) for r in read_split("test")[:20]]
    assert ThreatModel.load(folder / "a").predict(texts) == ThreatModel.load(folder / "b").predict(texts)


def test_card_and_thresholds(small_config):
    folder, config = small_config
    card = json.loads((folder / "a" / "card.json").read_text(encoding="utf-8"))
    assert card["training_data"]["articles"] == {"train": 200, "dev": 50, "test": 50}
    thresholds = card["hyperparameters"]["thresholds"]
    assert set(thresholds) == set(card["labels"])
    assert all(0.15 <= t <= 0.85 for t in thresholds.values())
    assert {"scikit-learn", "skops", "underthesea"} <= set(card["libraries"])
    # Fitted on train + dev with thresholds from out-of-fold scores: dev is not scored as held out.
    assert card["fitted_on"] == ["train", "dev"] and card["threshold_source"] == "cross_validation"
    assert "dev" not in card["metrics"] and "test" in card["metrics"]
