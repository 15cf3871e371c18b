import pytest

from pipeline.percentages import extract, parse_number


def values(text):
    return [p["value"] for p in extract(text)]


@pytest.mark.parametrize("text,expected", [
    ("Có tới 70% người dùng chưa cài phần mềm diệt virus.", [70.0]),
    ("khoảng 70 % máy tính bị nhiễm", [70.0]),
    ("Tỷ lệ thư rác chiếm 12,5% tổng lượng thư.", [12.5]),
    ("lợi nhuận tăng 12.5% so với cùng kỳ", [12.5]),
    ("Lãi suất giảm 0,5 phần trăm trong quý 3.", [0.5]),
    ("Con số này là hai mươi phần trăm.", [20.0]),
    ("chỉ còn ba mươi lăm phần trăm doanh nghiệp", [35.0]),
    ("Thị phần dao động 20-30% tùy khu vực.", [20.0, 30.0]),
    ("tăng từ 20% đến 30% trong hai năm", [20.0, 30.0]),
    ("giảm từ 15 đến 18 phần trăm", [15.0, 18.0]),
    ("Tỷ lệ thất nghiệp tăng 3 điểm phần trăm.", [3.0]),
    ("Một phần ba (1/3) số máy chủ, số vụ tấn công tăng gấp đôi, 2.000 máy bị nhiễm.", []),
    ("Năm 2017, 45% doanh nghiệp và 1.000% lợi nhuận", [45.0, 1000.0]),
    ("Địa chỉ http://vi.example/tin%20tuc không phải phần trăm", []),
    ("Trên thực tế, không đến 2% doanh nghiệp làm được điều đó.", [2.0]),
])
def test_values(text, expected):
    assert values(text) == expected


def test_offsets_text_and_sentence():
    text = "Bkav cảnh báo virus mới.\nCó 85 % số công ty sử dụng IM như một công cụ làm việc."
    [p] = extract(text, [(0, 24), (25, len(text))])
    assert text[p["start"]:p["end"]] == p["text"] == "85 %"
    assert p["sentence"] == 1
    assert p["unit"] == "percent"


def test_measure_follows_the_number():
    text = ("70% trong số các cuộc tấn công trong quý 2 là nhằm vào các mạng nhắn tin công cộng "
            "và 30% còn lại nhằm vào các mạng nhắn tin doanh nghiệp.")
    first, second = extract(text)
    assert first["measure"].startswith("trong số các cuộc tấn công")
    assert "mạng nhắn tin công cộng" in first["measure"]
    assert "doanh nghiệp" in second["measure"]


def test_measure_is_the_subject_when_the_number_ends_the_clause():
    [p] = extract("Doanh thu của hãng bảo mật này tăng 25% trong năm 2018.")
    assert p["measure"] == "Doanh thu của hãng bảo mật này"
    assert p["direction"] == "increase"


@pytest.mark.parametrize("text,direction", [
    ("Số vụ lừa đảo giảm 15%.", "decrease"),
    ("Thư rác chiếm 80% lượng email.", "share"),
    ("Số cuộc tấn công DDoS tăng 40%.", "increase"),
    ("Có 40% người dùng bị lộ mật khẩu.", None),
])
def test_direction(text, direction):
    assert extract(text)[0]["direction"] == direction


def test_ranges_are_marked():
    low, high = extract("tăng 20-30% mỗi năm")
    assert (low["range"], high["range"]) == ("low", "high")
    assert low["text"] == "20" and high["text"] == "30%"


@pytest.mark.parametrize("text,value", [
    ("12,5", 12.5), ("1.000", 1000.0), ("0.5", 0.5), ("1.234,5", 1234.5), ("hai mươi lăm", 25.0),
    ("một trăm", 100.0), ("mười lăm", 15.0), ("bốn mươi tư", 44.0), ("không phẩy", None),
])
def test_parse_number(text, value):
    assert parse_number(text) == value
