from pipeline.show import render_html, summary_table


def test_html_highlights_entities_and_percentages(nlp):
    record = nlp.analyze("Bkav cảnh báo virus mới\nÔng Nguyễn Minh Đức, giám đốc kỹ thuật của Bkav, cho biết "
                         "45% máy tính tại Việt Nam bị nhiễm mã độc.")
    html = render_html(record)
    assert "<html" in html.lower()
    assert "Bkav" in html and "Nguyễn Minh Đức" in html and "45%" in html
    assert html.count("<mark") >= 3
    rows = summary_table(record).row_count
    assert rows >= 4
