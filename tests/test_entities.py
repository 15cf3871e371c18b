import pytest

from pipeline.entities import EntityRecognizer
from pipeline.gazetteer import Gazetteer
from pipeline.language import PROJECT_ROOT
from pipeline.normalize import normalize


@pytest.fixture(scope="module")
def recognize():
    recognizer = EntityRecognizer(Gazetteer.load(PROJECT_ROOT / "corpora" / "gazetteers"))

    def run(text):
        orgs, people, mentions = recognizer(normalize(text).text)
        return {o["name"]: o for o in orgs}, {p["name"]: p for p in people}, mentions

    return run


def test_vietnamese_person_with_role_and_affiliation(recognize):
    orgs, people, _ = recognize(
        "Ông Nguyễn Minh Đức, giám đốc kỹ thuật của Bkav, cho biết mã độc đã lây nhiễm hàng nghìn máy. "
        "Theo ông Đức, người dùng cần cập nhật phần mềm.")
    assert "Bkav" in orgs
    person = people["Nguyễn Minh Đức"]
    assert person["role"] == "giám đốc kỹ thuật"
    assert person["affiliation"] == "Bkav"
    assert "Đức" in person["aliases"]


def test_foreign_people_and_vendors_in_a_list(recognize):
    orgs, people, _ = recognize(
        "Các hãng bảo mật như Kaspersky, Sophos và Trend Micro đã cập nhật mẫu nhận diện. "
        "Sarah Connelly, nhà nghiên cứu của Sophos, nói rằng Connelly đã theo dõi nhóm này nhiều tháng.")
    assert {"Kaspersky", "Sophos", "Trend Micro"} <= set(orgs)
    assert people["Sarah Connelly"]["affiliation"] == "Sophos"
    assert "Connelly" in people["Sarah Connelly"]["aliases"]


def test_long_name_and_acronym_merge(recognize):
    orgs, _, _ = recognize(
        "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam (VNCERT) vừa phát cảnh báo. "
        "Theo VNCERT, đã có hơn 2.000 website bị tấn công.")
    [entity] = [o for o in orgs.values() if "VNCERT" in [o["name"], *o["aliases"]]]
    assert entity["name"] == "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam"
    assert len(entity["mentions"]) >= 3


def test_products_malware_and_places_are_not_organisations(recognize):
    orgs, people, _ = recognize(
        "Sâu Sasser lây qua lỗ hổng của Windows XP tại Hà Nội và TP.HCM; người dùng Yahoo Messenger "
        "cũng nhận được đường link độc từ WannaCry.")
    assert not ({"Sasser", "Windows XP", "Windows", "Hà Nội", "TP.HCM", "Yahoo Messenger", "WannaCry"} & set(orgs))
    assert not people


def test_mentions_point_into_the_text(recognize):
    text = normalize("Phó cục trưởng Cục An toàn thông tin Trần Quang Hưng cho biết Cục ATTT đã làm việc với Viettel.").text
    orgs, people, mentions = recognize(text)
    assert mentions
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.text
    assert "Trần Quang Hưng" in people


@pytest.mark.shared
def test_seed_article_entities(nlp, seed_original):
    record = nlp.analyze(seed_original["text"])
    org_forms = {f for o in record.organizations for f in [o.name, *o.aliases]}
    assert {"Symantec", "Sybari", "McAfee", "Microsoft", "AOL", "Yahoo", "F-Secure", "IMlogic"} <= org_forms
    assert {"Jon Sakoda", "Mikko Hypponen"} <= {p.name for p in record.people}
    names = [e.name for e in [*record.organizations, *record.people]]
    assert not any(n.strip(" ,.()") == "" or "quý" in n.lower() for n in names)
    sakoda = next(p for p in record.people if p.name == "Jon Sakoda")
    assert sakoda.role == "giám đốc công nghệ" and sakoda.affiliation and "IMlogic" in sakoda.affiliation


@pytest.mark.shared
def test_seed_beats_underthesea_ner(nlp, seed_original):
    from pipeline.evaluate import _underthesea_entities
    from pipeline.metrics import entity_scores

    gold_orgs, gold_people = seed_original["organizations"], seed_original["people"]
    ours = nlp.analyze(seed_original["text"])
    ut_orgs, ut_people = _underthesea_entities(seed_original["text"])
    ours_f1 = entity_scores([([o.model_dump() for o in ours.organizations], gold_orgs)])["f1"]
    theirs_f1 = entity_scores([(ut_orgs, gold_orgs)])["f1"]
    assert ours_f1 > theirs_f1
    assert entity_scores([([p.model_dump() for p in ours.people], gold_people)])["f1"] >= \
        entity_scores([(ut_people, gold_people)])["f1"]


def test_kind_of_organisation_before_an_unknown_name(recognize):
    orgs, people, _ = recognize("Tin tặc đã tấn công tập đoàn dầu khí Rosneft và hãng quảng cáo WPP. (Ảnh: EPA/TTXVN)")
    assert {"Rosneft", "WPP", "EPA", "TTXVN"} <= set(orgs)
    assert not people


def test_function_words_stop_a_kind_trigger(recognize):
    orgs, _, _ = recognize("Công ty này đã hợp tác với Intellisoft trong nhiều năm.")
    assert "Intellisoft" not in orgs


def _forms(entities):
    return {e.name: {e.name, *e.aliases} for e in entities}


def test_credits_and_kind_words_are_whole_words(nlp):
    record = nlp.analyze(
        "Theo Đạo luật An ninh mạng mới, doanh nghiệp phải báo cáo sự cố trong 72 giờ.\n"
        "Tại buổi họp báo Hai ngày trước khi luật có hiệu lực, đại diện Bộ Công an trả lời báo chí. Ảnh: AP\n"
        "Theo Thượng tá Lê Văn Hòa, Phó trưởng phòng, lực lượng đã xác minh nhiều vụ việc. "
        "Ảnh: Reuters/TTXVN Giới chuyên gia cho rằng luật mới là cần thiết. Theo TTXVN PV -")
    orgs = _forms(record.organizations)
    assert "Bộ Công an" in orgs and "AP" in orgs and "Reuters" in orgs
    assert any("TTXVN" in forms for forms in orgs.values())
    assert not any("TTXVN PV" in forms or "TTXVN Giới" in forms for forms in orgs.values())
    assert not {"Đạo", "Hai", "Thượng"} & {f for forms in orgs.values() for f in forms}
    assert "Lê Văn Hòa" in {p.name for p in record.people}


def test_foreign_bodies_company_short_names_and_lowercase_tails(nlp):
    record = nlp.analyze(
        "Bộ Nội vụ Nga và Chính phủ Đức cùng lên tiếng sau vụ tấn công. "
        "Công ty bảo mật Quantrix Labs cho biết Quantrix Labs đã chặn được mã độc. "
        "Cục Cảnh sát phòng chống tội phạm sử dụng công nghệ cao đã vào cuộc. "
        "Sinh viên trường đại học Oxford tham gia phân tích mẫu mã độc.")
    orgs = _forms(record.organizations)
    assert {"Bộ Nội vụ Nga", "Chính phủ Đức"} <= set(orgs)
    assert "Bộ Nội vụ" not in orgs  # Russia's ministry is not Vietnam's
    quantrix = next(forms for forms in orgs.values() if "Quantrix Labs" in forms)
    assert "Công ty bảo mật Quantrix Labs" in quantrix
    assert "Cục Cảnh sát phòng chống tội phạm sử dụng công nghệ cao" in orgs
    assert any(name.lower() == "trường đại học oxford" for name in orgs)


def test_places_and_headline_words_are_not_people(nlp):
    record = nlp.analyze(
        "Bảo Mật Thông Tin Cho Doanh Nghiệp Nhỏ\n"
        "Nhiều doanh nghiệp tại TP Hồ Chí Minh và quanh sân bay Tân Sơn Nhất bị lừa đảo. "
        "Phó Chủ tịch UBND tỉnh Phạm Quốc Thắng cho biết sẽ xử lý nghiêm.")
    people = {p.name for p in record.people}
    assert "Phạm Quốc Thắng" in people
    assert not people & {"Hồ Chí Minh", "Tân Sơn Nhất", "Thông Tin", "Bảo Mật", "Doanh Nghiệp Nhỏ"}


def test_bylines_after_the_last_sentence_and_signatures(nlp):
    people = lambda text: {p.name for p in nlp.analyze(text).people}  # noqa: E731
    # A feed that lost its line breaks keeps the byline after the last full stop.
    assert "Minh Khôi" in people(
        "Ngân hàng cảnh báo tin nhắn giả mạo\nKhách hàng không nên bấm vào đường link lạ. Minh Khôi ")
    assert "HẢI YẾN" in people(
        "Sâu mới lây qua USB\nNgười dùng nên cài phần mềm diệt virus. HẢI YẾN (VnExpress)")
    assert "Thu Trang" in people(
        "Website trường học bị tấn công\nHệ thống đã được khôi phục sau hai ngày. Thu Trang/Báo Tin Tức")
    # "Anh" opening a signature is part of the name, not a title.
    assert "Anh Quân" in people("Mã độc đánh cắp mật khẩu\nHãng bảo mật đã phát hành bản vá. Anh Quân (lược dịch)")
    # A reader's signature line, which underthesea joins to the next line's words.
    assert "Lê Văn Thịnh" in people(
        "Hỏi về máy tính\nMáy tôi bị nhiễm virus, xin hướng dẫn cách diệt. Xin cảm ơn.\nLê Văn Thịnh\nHồi âm:\nBạn nên cài lại.")
    # A place or a heading on the last line is no byline.
    assert not people("Mưa lớn kéo dài\nNhiều tuyến đường ngập sâu. Hà Nội") & {"Hà Nội"}


def test_people_named_by_title_age_or_apposition(nlp):
    record = nlp.analyze(
        "Tin tặc tuổi teen bị bắt\nKarl Brenner, 19 tuổi, bị cáo buộc phát tán sâu máy tính. "
        "Theo Ferdinand Oswalt, giám đốc marketing của hãng NetSafe, thư rác tăng mạnh. "
        "Chi phí còn cao hơn, Milo Jansen, tác giả của báo cáo, nhận định. "
        "Sản phẩm sẽ ngừng bán, người phát ngôn Intel, Chuck Dorsey, khẳng định. "
        "Tổng thống Donald Trump đã ký sắc lệnh; ông Trump nói sẽ trừng phạt tin tặc. "
        "Đối tượng giật điện thoại của chị Hằng (28 tuổi) rồi bỏ chạy.")
    people = _forms(record.people)
    for name in ("Karl Brenner", "Ferdinand Oswalt", "Milo Jansen", "Chuck Dorsey", "Hằng"):
        assert name in people, name
    assert "Trump" in people["Donald Trump"]  # one person, not two
    orgs = _forms(record.organizations)
    assert not {"Ferdinand Oswalt", "Chuck Dorsey"} & set(orgs)


def test_things_and_places_are_not_people(nlp):
    record = nlp.analyze(
        "Tính năng mới của Windows\nCông cụ Windows Explorer được làm lại. Đại diện Viettel Mobile cho biết "
        "sẽ hỗ trợ khách hàng. Tổng thống Nga Putin phát biểu tại hội nghị. Tàu đi qua Thái Bình Dương.\n"
        "THỊ TRƯỜNG SÔI ĐỘNG\nBộ trưởng Công Thương Trần Tuấn Anh cho biết giá sẽ giảm.")
    people = {p.name for p in record.people}
    assert "Trần Tuấn Anh" in people
    assert not people & {"Windows Explorer", "Viettel Mobile", "Nga Putin", "Thái Bình Dương",
                         "THỊ TRƯỜNG SÔI ĐỘNG", "Công Thương Trần Tuấn Anh"}
    assert not any(o.name.startswith("Bộ trưởng") for o in record.organizations)


def test_company_suffixes_other_capitals_and_short_names(nlp):
    record = nlp.analyze(
        "Hãng bán lẻ mua lại Trellis Networks\nTập đoàn Mondavi International vừa mua lại Trellis Networks "
        "và Quarry Research Institute. Theo thống kê của BKAV, số máy nhiễm đã giảm; MICROSOFT chưa bình luận. "
        "HP và LG cùng ra mắt màn hình mới. Ảnh minh họa: EPA/TTXVN. "
        "Gói Microsoft Security Essentials được cập nhật.")
    orgs = _forms(record.organizations)
    names = {f for forms in orgs.values() for f in forms}
    assert {"Mondavi International", "Trellis Networks", "Quarry Research Institute", "HP", "LG", "EPA"} <= names
    assert {"BKAV", "MICROSOFT"} <= names
    assert "Microsoft Security" not in names


def test_products_named_after_companies_are_not_organisations(nlp):
    record = nlp.analyze(
        "Lỗ hổng mới trong trình duyệt\nNgười dùng trình duyệt Opera và chiếc Nokia đời cũ đều bị ảnh hưởng, "
        "virus còn lây qua mạng chia sẻ file nhạc Kazaa. Hãng Nokia cho biết sẽ vá lỗi. Hệ thống chạy 24/24h.")
    orgs = [o for o in record.organizations]
    nokia = next(o for o in orgs if o.name == "Nokia")
    assert len(nokia.mentions) == 1  # the company that speaks, not the phone
    assert not {"Kazaa", "24h", "Opera"} & {o.name for o in orgs}


def test_long_names_and_their_known_short_forms_are_one_organisation(nlp):
    record = nlp.analyze(
        "Cảnh sát châu Âu vào cuộc\nCơ quan Cảnh sát Châu Âu (Europol) cho biết đã lập nhóm điều tra. "
        "Phân tích của hãng bảo mật Quillon Data Systems cho thấy mã độc lây qua USB, giám đốc của Quillon "
        "cho biết. Ban cán sự Bộ Công Thương đã họp; Bộ Công Thương sẽ báo cáo Ban Bí thư.")
    orgs = _forms(record.organizations)
    europol = next(forms for forms in orgs.values() if "Europol" in forms)
    assert "Cơ quan Cảnh sát Châu Âu" in europol
    quillon = next(forms for forms in orgs.values() if "Quillon Data Systems" in forms)
    assert "Quillon" in quillon
    # A body of the ministry is another organisation than the ministry.
    assert not any({"Ban cán sự Bộ Công Thương", "Bộ Công Thương"} <= forms for forms in orgs.values())
    assert any("Ban cán sự Bộ Công Thương" in forms for forms in orgs.values())


def test_a_body_written_longer_and_shorter_is_one_organisation(nlp):
    record = nlp.analyze(
        "Mã độc tấn công cơ quan nhà nước\nSở Thông tin và Truyền thông TPHCM cho biết đã phát hiện mã độc. "
        "Sau đó, Sở Thông tin và Truyền thông đã phối hợp xử lý. Thứ trưởng Bộ Công thương cho biết "
        "Bộ Công Thương sẽ kiểm tra.")
    orgs = _forms(record.organizations)
    department = next(forms for forms in orgs.values() if "Sở Thông tin và Truyền thông TPHCM" in forms)
    assert "Sở Thông tin và Truyền thông" in department
    assert sum(any(f.casefold() == "bộ công thương" for f in forms) for forms in orgs.values()) == 1
