"""Word segmentation must equal underthesea.word_tokenize(text, format="text") exactly."""
import pytest
from underthesea import word_tokenize

from pipeline.normalize import normalize
from pipeline.segment import split_sentences, tokenize

# Our own sentences with the segmentation underthesea 9.5.0 gives them (checked by running
# underthesea.word_tokenize, not our code). The test below checks them against underthesea again.
EXPECTED = {
    "Tin tặc đã xâm nhập hệ thống máy chủ của một ngân hàng lớn tại Hà Nội.":
        "Tin tặc đã xâm_nhập hệ_thống máy_chủ của một ngân_hàng lớn tại Hà_Nội .",
    "Bộ Công an vừa bắt giữ nhóm đối tượng lừa đảo qua mạng xã hội, chiếm đoạt hơn 5 tỷ đồng.":
        "Bộ Công_an vừa bắt_giữ nhóm đối_tượng lừa_đảo qua_mạng xã_hội , chiếm_đoạt hơn 5 tỷ đồng .",
    "Theo báo cáo, 45% doanh nghiệp Việt Nam từng bị mã độc tống tiền tấn công trong năm qua.":
        "Theo báo_cáo , 45 % doanh_nghiệp Việt_Nam từng bị mã_độc tống_tiền tấn_công trong năm qua .",
    "Chuyên gia bảo mật khuyến cáo người dùng cập nhật bản vá ngay lập tức.":
        "Chuyên_gia bảo_mật khuyến_cáo người dùng cập_nhật_bản vá ngay_lập_tức .",
}


def segmented(text: str) -> str:
    return " ".join(t.segmented for t in tokenize(normalize(text).text))


@pytest.mark.parametrize("text,expected", EXPECTED.items())
def test_expected_segmentation(text, expected):
    assert word_tokenize(text, format="text") == expected  # the expectation is underthesea's
    assert segmented(text) == expected


@pytest.mark.parametrize("text", EXPECTED)
def test_segmented_input_gives_the_same_tokens(text):
    assert segmented(EXPECTED[text]) == EXPECTED[text]


def test_token_offsets_point_into_the_text():
    text = normalize("Mã độc WannaCry đã lây nhiễm hơn 200.000 máy tính ở 150 quốc gia.\nBkav khuyến cáo vá lỗi.").text
    tokens = tokenize(text)
    assert [t.text for t in tokens] == word_tokenize(text)
    for token in tokens:
        assert text[token.start:token.end].split() == token.text.split()


def test_sentences_split_on_lines_and_punctuation():
    text = "Cảnh báo lừa đảo mới\nNgười dùng nhận tin nhắn giả mạo ngân hàng. Họ bị mất tiền."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Cảnh báo lừa đảo mới", "Người dùng nhận tin nhắn giả mạo ngân hàng.", "Họ bị mất tiền."]


def _compare(tokens: list[str], expected: list[str]) -> list[tuple]:
    import difflib

    return [op for op in difflib.SequenceMatcher(None, tokens, expected, autojunk=False).get_opcodes()
            if op[0] != "equal"]


@pytest.mark.shared
def test_seed_with_underscores_as_spaces_gives_the_seed(seed_text):
    tokens = segmented(seed_text.replace("_", " ")).split(" ")
    assert _compare(tokens, seed_text.split()) == []


@pytest.mark.shared
def test_seed_as_segmented_input_gives_the_seed(seed_text):
    assert _compare(segmented(seed_text).split(" "), seed_text.split()) == []


@pytest.mark.shared
def test_original_article_gives_the_seed(seed_text, seed_original):
    tokens = segmented(seed_original["text"]).split(" ")
    assert _compare(tokens, seed_text.split()) == []
