"""Feeds and web pages as input: RSS 2.0, Atom, HTML articles, gzip; ids shared by copies of one
item across feeds; bad feed files become rejects naming the file."""
import gzip
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import canonical_url, extract_html, item_id, read, strip_html, walk

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
HTML = DATA / "html"
LOCKBIT = "https://tin.example.vn/an-ninh/ma-doc-tong-tien-benh-vien-123.html"


def articles_of(*inputs):
    items = list(read([str(i) for i in inputs]))
    return [extract_html(item, 1_000_000) if item.html is not None else item for item in items]


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_rss_items_keep_link_date_feed_title_and_clean_text():
    items = articles_of(FEEDS / "an-ninh-mang.rss")
    assert [i.line for i in items] == [1, 2, 3] and all(i.error is None for i in items)
    first = items[0].article
    assert first["url"] == LOCKBIT
    assert first["published"] == "2024-03-05T01:30:00Z"  # +0700 in the feed, ISO 8601 in UTC
    assert first["feed"] == "Tin An ninh mạng"
    assert first["title"] == "Mã độc tống tiền tấn công hệ thống của ba bệnh viện"
    # title, then content:encoded (preferred to the description) without tags or the script
    assert first["text"].startswith(first["title"] + "\nTheo Cục An toàn thông tin, mã độc tống tiền LockBit")
    assert "<p>" not in first["text"] and "theoDoi" not in first["text"]
    assert "Khoảng 40% máy chủ" in first["text"]
    assert first["id"] == item_id(LOCKBIT)
    # an item with only a non-permalink guid: an id scoped to its feed, no url, no date
    third = items[2].article
    assert third["id"].startswith("item:") and "url" not in third and "published" not in third


def test_atom_entries_html_title_and_content():
    items = articles_of(FEEDS / "cong-nghe.atom")
    ddos = items[1].article
    assert ddos["title"] == "Tấn công DDoS tăng 25% trong quý đầu năm"
    assert ddos["published"] == "2024-03-07T01:15:00Z"
    assert ddos["feed"] == "Công nghệ số"
    assert ddos["text"].split("\n")[1].startswith("Theo báo cáo của Viettel Cyber Security")
    assert "<em>" not in ddos["text"]


def test_same_item_in_two_feeds_and_as_a_page_has_one_id():
    rss = articles_of(FEEDS / "an-ninh-mang.rss")
    atom = articles_of(FEEDS / "cong-nghe.atom")
    page = articles_of(HTML / "ma-doc-benh-vien.html")[0]
    # http vs https, www., case of the host, utm_* parameters and the fragment do not matter
    assert rss[1].article["id"] == atom[0].article["id"]
    assert page.article["id"] == rss[0].article["id"] == item_id(LOCKBIT)


def test_canonical_url_and_item_id():
    assert canonical_url("HTTP://WWW.Tin.Example.vn/a/b/?utm_source=x&z=2&a=1#c") == "tin.example.vn/a/b?a=1&z=2"
    assert canonical_url("https://tin.example.vn:8443/a") == "tin.example.vn:8443/a"
    assert canonical_url("tag:congnghe.example.vn,2024:x") is None
    assert item_id(None, None) is None
    # a non-URL guid is only unique within its feed
    assert item_id(None, "123", scope="feed-a") != item_id(None, "123", scope="feed-b")
    assert item_id(None, "https://tin.example.vn/a?utm_medium=rss") == item_id("http://tin.example.vn/a/")


def test_html_page_main_text_without_boilerplate():
    page = articles_of(HTML / "ma-doc-benh-vien.html")[0].article
    assert page["title"] == "Mã độc tống tiền tấn công hệ thống của ba bệnh viện"
    assert page["url"] == LOCKBIT and page["published"] == "2024-03-05"
    assert "sao lưu dữ liệu định kỳ" in page["text"]
    for boilerplate in ("Trang chủ", "Giá vàng hôm nay", "Bản quyền thuộc về"):
        assert boilerplate not in page["text"]
    other = articles_of(HTML / "tan-cong-email.htm")[0].article
    assert "id" not in other  # no canonical link: the id will be the text hash
    assert "gần 15% doanh nghiệp" in other["text"] and "Liên hệ quảng cáo" not in other["text"]


def test_gzip_versions_give_the_same_items(tmp_path):
    for source in [FEEDS / "an-ninh-mang.rss", FEEDS / "cong-nghe.atom", HTML / "ma-doc-benh-vien.html"]:
        target = tmp_path / (source.name + ".gz")
        target.write_bytes(gzip.compress(source.read_bytes()))
        plain, packed = articles_of(source), articles_of(target)
        assert [i.article for i in plain] == [i.article | ({"source": i.article["source"]} if "source" in i.article else {})
                                              for i in packed]
    xml = tmp_path / "copy.xml.gz"
    xml.write_bytes(gzip.compress((FEEDS / "an-ninh-mang.rss").read_bytes()))
    assert len(articles_of(xml)) == 3


def test_bad_feed_files_are_rejects_naming_the_file(tmp_path):
    broken = tmp_path / "broken.rss"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 not xml at all")
    not_a_feed = FEEDS / "hong.xml"
    bad_gzip = tmp_path / "bad.atom.gz"
    bad_gzip.write_bytes(b"this is not gzip data")
    items = articles_of(broken, not_a_feed, bad_gzip)
    assert [i.input for i in items] == [str(broken), str(not_a_feed), str(bad_gzip)]
    assert all(i.error and i.article is None for i in items)
    assert "feed" in items[0].error and "not an RSS or Atom feed" in items[1].error
    assert "cannot read" in items[2].error


def test_html_page_without_main_text_is_a_reject(tmp_path):
    empty = tmp_path / "trong.html"
    empty.write_text("<html><head><title>Trống</title></head><body><script>var x = 1;</script></body></html>",
                     encoding="utf-8")
    [item] = articles_of(empty)
    assert item.error and "no main text" in item.error


def test_strip_html():
    assert strip_html("<p>Tin tặc <b>tấn công</b> &amp; tống tiền</p><p>Dòng 2<br/>Dòng 3</p>") == \
        "Tin tặc tấn công & tống tiền\nDòng 2\nDòng 3"
    assert strip_html("<style>p{}</style><script>x()</script>Chỉ  chữ") == "Chỉ chữ"
    assert strip_html("Không có thẻ") == "Không có thẻ"


def test_walk_is_sorted_rglob_order(tmp_path):
    for name in ["b/z.txt", "a.txt", "a/x.jsonl", "a/b/c.rss", "A.txt", "a-b/y.txt", "c.html"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert list(walk(tmp_path)) == sorted(p for p in tmp_path.rglob("*") if p.is_file())


def test_run_over_feeds_and_pages(tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(FEEDS, inputs / "feeds")
    shutil.copytree(HTML, inputs / "pages")
    out = tmp_path / "records.jsonl"
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["run", str(inputs), "-o", str(out), "-q", "--summary-json", str(summary)])
    assert result.exit_code == 1, result.output
    records, rejects = lines_of(out), lines_of(tmp_path / "records.rejects.jsonl")
    stats = json.loads(summary.read_text(encoding="utf-8"))
    # 3 RSS items + 2 Atom entries + hong.xml + 2 pages
    assert stats["articles"] == 8 == len(records) + len(rejects)
    assert len({r["id"] for r in records}) == len(records) == 5
    duplicates = [r for r in rejects if r["reason"].startswith("duplicate id")]
    assert [(Path(r["input"]).name, r["line"]) for r in duplicates] == [("cong-nghe.atom", 1), ("ma-doc-benh-vien.html", None)]
    assert stats["reject_reasons"] == {"duplicate id": 2, "not an RSS or Atom feed": 1}
    [bad] = [r for r in rejects if not r["reason"].startswith("duplicate")]
    assert bad["input"].endswith("hong.xml")
    lockbit = records[0]
    assert lockbit["source"]["url"] == LOCKBIT and lockbit["source"]["feed"] == "Tin An ninh mạng"
    assert lockbit["source"]["published"] == "2024-03-05T01:30:00Z"
    assert lockbit["title"] == "Mã độc tống tiền tấn công hệ thống của ba bệnh viện"
    assert "ransomware" in lockbit["threat"]["categories"] or lockbit["threat"]["is_security"]
    assert set(stats["stage_seconds"]) >= {"normalize", "segment", "percentages", "entities", "classify"}
