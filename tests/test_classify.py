"""The shipped threat classifier, judged on data it was not trained on."""
import pytest

from pipeline.classify import TRUSTED_TYPES, ThreatModel
from pipeline.corpus import read_split
from pipeline.language import PROJECT_ROOT
from pipeline.metrics import classification_scores
from pipeline.train import segmented

MODEL_DIR = PROJECT_ROOT / "models" / "threat-classifier"


@pytest.fixture(scope="module")
def model():
    return ThreatModel.load(MODEL_DIR)


def test_loads_only_trusted_types(tmp_path, model):
    import skops.io as sio

    assert model.labels and set(model.thresholds) == set(model.labels)
    from sklearn.tree import DecisionTreeClassifier

    bad = tmp_path / "model.skops"
    sio.dump({"labels": ["x"], "payload": DecisionTreeClassifier()}, bad)
    with pytest.raises(ValueError, match="do not trust"):
        ThreatModel.load(tmp_path)
    assert "sklearn.tree._classes.DecisionTreeClassifier" not in TRUSTED_TYPES
    sio.dump({"labels": ["x"], "payload": 1}, bad)
    with pytest.raises(ValueError, match="not a threat model"):
        ThreatModel.load(tmp_path)


def test_security_and_non_security_news(model):
    security = segmented(
        "Cảnh báo mã độc tống tiền tấn công doanh nghiệp\nNhiều công ty tại TP.HCM bị mã độc mã hóa toàn bộ "
        "dữ liệu và đòi tiền chuộc bằng Bitcoin. Chuyên gia khuyến cáo sao lưu dữ liệu thường xuyên.")
    sport = segmented(
        "Đội tuyển Việt Nam thắng đậm trên sân nhà\nCác cầu thủ tấn công liên tục và ghi ba bàn trong hiệp hai, "
        "mang về chiến thắng quan trọng ở vòng loại.")
    first, second = model.predict([security, sport])
    assert first["is_security"] and "ransomware" in first["categories"] and "malware" in first["categories"]
    assert not second["is_security"] and second["categories"] == []
    assert set(first["scores"]) == set(model.labels)


def test_held_out_test_split_quality(model):
    rows = read_split("test")
    predictions = model.predict([segmented(r["text"]) for r in rows])
    scores = classification_scores([(r["is_security"], set(r["categories"])) for r in rows],
                                   [(p["is_security"], set(p["categories"])) for p in predictions])
    assert scores["is_security"]["f1"] >= 0.9
    assert scores["categories_micro"]["f1"] >= 0.7


def test_card_describes_the_model():
    import hashlib
    import json

    card = json.loads((MODEL_DIR / "card.json").read_text(encoding="utf-8"))
    assert card["file_sha256"] == hashlib.sha256((MODEL_DIR / "model.skops").read_bytes()).hexdigest()
    for key in ("training_data", "libraries", "metrics", "command", "hyperparameters", "labels"):
        assert card[key]
    assert card["training_data"]["hash"].startswith("sha256:")
    assert "test" in card["metrics"] and "test" not in card["fitted_on"]
    # dev is scored only when the model was not fitted on it.
    assert ("dev" in card["metrics"]) == ("dev" not in card["fitted_on"])


def test_one_text_path_matches_scikit_learn(model):
    """The per-article path (our own TF-IDF lookup and one product) gives what scikit-learn's
    FeatureUnion and LogisticRegressions give for the same texts."""
    import numpy as np

    texts = [segmented(r["text"]) for r in read_split("dev")[:60]]
    one_by_one = [model.predict([t])[0] for t in texts]
    features = model.features.transform(texts)
    security = model.security.predict_proba(features)[:, 1]
    scores = np.asarray(model.categories.predict_proba(features))
    for result, s, row in zip(one_by_one, security, scores):
        assert abs(result["security_score"] - s) < 1e-4
        assert max(abs(result["scores"][label] - p) for label, p in zip(model.labels, row)) < 1e-4
    assert one_by_one == model._decide(security, scores)
