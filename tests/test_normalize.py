from hypothesis import given, settings, strategies as st

from pipeline.normalize import is_segmented, normalize


def test_nfc_and_old_tone_placement():
    decomposed = "Ho\u0300a bi\u0300nh va\u0300 an toa\u0300n"  # combining grave accents
    assert normalize(decomposed).text == "Hòa bình và an toàn"
    assert normalize("Thuý khoẻ, mã hoá và uỷ ban").text == "Thúy khỏe, mã hóa và ủy ban"


def test_html_entities_including_double_escaped():
    text = "Tin tặc &amp; mã độc: 5 &gt; 3, &amp;quot;Bkav&amp;quot; c&#7843;nh báo"
    assert normalize(text).text == 'Tin tặc & mã độc: 5 > 3, "Bkav" cảnh báo'


def test_whitespace_and_lines():
    text = "  Tiêu đề bài báo \r\n\r\n\tNội   dung\u00a0chính\u200b.  \n \n"
    assert normalize(text).text == "Tiêu đề bài báo\nNội dung chính."


def test_typographic_quotes_become_straight():
    assert normalize("được “tiến hóa” theo ‘thời gian’").text == "được \"tiến hóa\" theo 'thời gian'"


def test_segmented_input_is_recognised_and_unsegmented():
    result = normalize("Tin_tặc đã xâm_nhập hệ_thống máy_chủ của ngân_hàng .")
    assert result.was_segmented
    assert result.text == "Tin tặc đã xâm nhập hệ thống máy chủ của ngân hàng ."


def test_identifiers_with_underscores_are_not_segmentation():
    text = "Mã độc sửa tệp config_file.ini và khóa registry trên nhiều máy tính của người dùng tại Hà Nội"
    assert not is_segmented(text)
    assert normalize(text).text == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aàáạảãăằắâầấđeèéêềếoòóôồốơờớuùúưừứyỳý_ .,;&#\n\t“”%0123456789")), max_size=80))
def test_normalize_is_idempotent(text):
    once = normalize(text).text
    assert normalize(once).text == once
