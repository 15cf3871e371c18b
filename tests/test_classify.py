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
    """The per-article path (our own TF-IDF lookup and one product per paragraph) gives what
    scikit-learn's FeatureUnion and LogisticRegressions give for the same texts: the mean of the
    article's probability and its best paragraph's."""
    import numpy as np

    texts = [segmented(r["text"]) for r in read_split("dev")[:60]]
    one_by_one = [model.predict([t])[0] for t in texts]
    features = model.features.transform(texts)
    security = model.security.predict_proba(features)[:, 1]
    article = np.asarray(model.categories.predict_proba(features))
    best = np.array([np.asarray(model.paragraphs.predict_proba(model.features.transform(t.split("\n")))).max(0)
                     for t in texts])
    scores = (article + best) / 2
    for result, s, row in zip(one_by_one, security, scores):
        assert abs(result["security_score"] - s) < 1e-4
        assert max(abs(result["scores"][label] - p) for label, p in zip(model.labels, row)) < 1e-4
    assert one_by_one == model._decide(security, scores)
    assert model.predict(texts[:5]) == one_by_one[:5]


def test_classifier_text_keeps_paragraphs():
    from underthesea import word_tokenize

    from pipeline.classify import classifier_text
    from pipeline.normalize import normalize
    from pipeline.segment import tokenize

    text = normalize("Ngân hàng báo lãi quý III tăng mạnh\n\nLợi nhuận trước thuế đạt 1.200 tỷ đồng.\n"
                     "Ngân hàng cũng cảnh báo khách hàng về tin nhắn giả mạo.").text
    lines = classifier_text(text, tokenize(text)).split("\n")
    assert len(lines) == 3 and lines[0].startswith("Ngân_hàng") and "giả_mạo" in lines[2]
    assert " ".join(lines) == word_tokenize(text, format="text")


def test_a_subject_in_one_paragraph_of_a_business_article(model):
    """A phishing wave reported in one paragraph of a bank's quarterly results is a real subject;
    the same bank's results without it are not security news."""
    results = ("Ngân hàng Đông Á Mới báo lãi quý III tăng 18%\n"
               "Theo báo cáo tài chính vừa công bố, lợi nhuận trước thuế quý III của ngân hàng đạt 1.250 tỷ đồng, "
               "tăng 18% so với cùng kỳ năm trước. Thu nhập lãi thuần tăng 12% nhờ tín dụng bán lẻ, "
               "trong khi chi phí hoạt động được kiểm soát ở mức 35% tổng thu nhập.\n"
               "Tổng tài sản của ngân hàng đến cuối tháng 9 đạt gần 210.000 tỷ đồng. Tỷ lệ nợ xấu giảm còn 1,6%, "
               "và ngân hàng dự kiến hoàn thành 80% kế hoạch lợi nhuận cả năm ngay trong quý IV.\n")
    phishing = ("Cũng trong quý III, ngân hàng ghi nhận một đợt tin nhắn giả mạo thương hiệu gửi tới khách hàng, "
                "dẫn tới các trang web giả có giao diện giống hệt trang đăng nhập ngân hàng điện tử để đánh cắp "
                "tên đăng nhập, mật khẩu và mã OTP. 47 khách hàng đã nhập thông tin vào trang giả và bị chiếm "
                "đoạt tiền trong tài khoản; ngân hàng đã khóa các đường link lừa đảo và khuyến cáo khách hàng "
                "không bấm vào đường link lạ.\n")
    closing = "Cổ phiếu của ngân hàng tăng 2,3% trong phiên giao dịch sáng nay."
    with_phishing, without = model.predict([segmented(results + phishing + closing), segmented(results + closing)])
    assert with_phishing["is_security"] and "phishing" in with_phishing["categories"]
    assert not without["is_security"] and without["categories"] == []
