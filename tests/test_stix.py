"""STIX 2.1 export of the sample's records: valid bundles (stix2-validator), the objects the
articles name, deterministic ids and bytes, and the `--sink stix:` / `vnsec export stix` paths."""
import json

import pytest
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.gazetteer import Gazetteer
from pipeline.stix import FALLBACK_PUBLISHED, FIXED_TIMESTAMP, GAZETTEERS, NAMESPACE, StixExporter, stix_id

# Warnings as errors, but two: 103 "the id is not a UUIDv4" (STIX 2.1 recommends v4 but allows
# the UUIDv5 we use on purpose, so that re-exports give the same ids) and 302 "an external
# reference with a URL has no hash" (we never had the bytes of the article's page to hash).
STRICT = ValidationOptions(version="2.1", strict=True, disabled=["103", "302"])


CRAFTED = ("Nhóm tin tặc Lazarus phát tán mã độc WannaCry tấn công ngân hàng\n"
           "Theo Công ty Bkav, nhóm tin tặc Lazarus, còn được gọi là Hidden Cobra, đã phát tán mã độc tống tiền "
           "WannaCry qua lỗ hổng của Windows, mã hóa dữ liệu của hàng nghìn máy tính tại Việt Nam. Ông Nguyễn Văn "
           "Hải, chuyên gia bảo mật của Bkav, khuyến cáo người dùng cập nhật bản vá ngay.")



@pytest.fixture(scope="module")
def bundle_text(records):
    exporter = StixExporter()
    for record in records:
        exporter.add(record)
    return exporter.bundle_json()


@pytest.fixture(autouse=True)
def loaded_once(monkeypatch, nlp):
    from pipeline.language import Pipeline

    monkeypatch.setattr(Pipeline, "from_config", classmethod(lambda cls, path=None: nlp))


def by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        found.setdefault(obj["type"], []).append(obj)
    return found


def test_bundle_is_valid_stix_2_1(bundle_text):
    result = validate_string(bundle_text, STRICT)
    assert result.is_valid, result.as_dict()
    assert not result.warnings, [str(w) for w in result.warnings]


def test_a_report_per_security_article_with_its_objects(bundle_text, records):
    gazetteer = Gazetteer.load(GAZETTEERS)
    bundle = json.loads(bundle_text)
    objects = {o["id"]: o for o in bundle["objects"]}
    assert len(objects) == len(bundle["objects"])  # no object twice
    kinds = by_type(bundle)
    security = [r for r in records if r.threat.is_security]
    assert 0 < len(security) < len(records)
    assert [r["external_references"][0]["external_id"] for r in kinds["report"]] == [r.id for r in security]
    producer = kinds["identity"][0]
    assert producer["identity_class"] == "system" and producer["name"] == "vnsec"
    assert all(o["created_by_ref"] == producer["id"] for o in bundle["objects"][1:])
    for report, record in zip(kinds["report"], security):
        assert report["id"] == stix_id("report", record.id)
        assert report["name"] == record.title
        assert report["published"] == record.source.published + "T00:00:00Z"
        assert report["created"] == report["modified"] == record.source.published + "T00:00:00.000Z"
        assert report["report_types"][0] == "threat-report"
        assert report["labels"] == record.threat.categories
        assert report["confidence"] == round(record.threat.security_score * 100)
        assert report["lang"] == "vi" and report["description"]
        assert report["object_refs"] and all(ref in objects for ref in report["object_refs"])
        named = {(objects[ref]["type"], objects[ref]["name"]) for ref in report["object_refs"]}
        assert {("identity", p.name) for p in record.people} <= named
        for org in record.organizations:  # an identity under its gazetteer name, or a threat actor
            known = [gazetteer.organizations[f] for f in [org.name, *org.aliases] if f in gazetteer.organizations]
            if any(kind == "threat_actor" for _, kind in known):
                assert ("threat-actor", next(n for n, kind in known if kind == "threat_actor")) in named
            elif gazetteer.not_organizations.get(org.name) != "malware":
                assert ("identity", known[0][0] if known else org.name) in named
    assert all(o["identity_class"] in ("organization", "individual") for o in kinds["identity"][1:])


def test_threat_actors_malware_and_organisations_named_in_the_text(nlp):
    record = nlp.analyze(CRAFTED, id="crafted-1", title="Nhóm tin tặc Lazarus phát tán mã độc WannaCry",
                         published="2017-05-15T08:30:00+07:00", url="https://example.invalid/wannacry")
    assert record.threat.is_security
    exporter = StixExporter()
    exporter.add(record)
    text = exporter.bundle_json()
    assert validate_string(text, STRICT).is_valid
    kinds = by_type(json.loads(text))
    [report] = kinds["report"]
    assert report["published"] == "2017-05-15T01:30:00Z"  # the article's time, in UTC
    assert set(report["report_types"]) >= {"threat-report", "malware"}
    assert report["external_references"][1] == {"source_name": "article", "url": "https://example.invalid/wannacry"}
    [actor] = kinds["threat-actor"]
    assert actor["name"] == "Lazarus" and "Hidden Cobra" in actor["aliases"]
    assert actor["id"] == stix_id("threat-actor", "lazarus")
    [malware] = kinds["malware"]
    assert malware["name"] == "WannaCry" and malware["is_family"] is True
    identities = {o["name"]: o for o in kinds["identity"]}
    assert identities["Bkav"]["identity_class"] == "organization" and identities["Bkav"]["sectors"] == ["technology"]
    assert not any("Lazarus" in name for name in identities)  # a threat actor, not an identity
    assert {actor["id"], malware["id"], identities["Bkav"]["id"]} <= set(report["object_refs"])


def test_the_same_records_give_the_same_bytes_and_ids_never_depend_on_the_batch(bundle_text, records):
    again = StixExporter()
    for record in records:
        again.add(record)
    assert again.bundle_json() == bundle_text
    full = {o["id"]: o for o in json.loads(bundle_text)["objects"] if o["type"] != "bundle"}
    part = StixExporter()  # a later export of some of the same articles: the same objects, no duplicates
    for record in reversed(records[20:]):
        part.add(record)
    for obj in json.loads(part.bundle_json())["objects"]:
        if obj["type"] != "identity" or obj["identity_class"] == "system":
            assert obj == full[obj["id"]]
        else:
            assert obj["id"] in full
    assert str(NAMESPACE) == "6f1c1a0e-3d3b-5c8e-9a57-766e73656321"  # changing it would re-id every object


def test_missing_dates_and_titles_have_documented_fallbacks(nlp):
    record = nlp.analyze("Mã độc WannaCry tấn công hàng loạt máy tính\nMã độc tống tiền WannaCry đã mã hóa dữ liệu "
                         "của nhiều doanh nghiệp, tin tặc đòi tiền chuộc bằng Bitcoin.", id="no-date")
    assert record.threat.is_security
    exporter = StixExporter()
    exporter.add(record)
    bundle = json.loads(exporter.bundle_json())
    [report] = by_type(bundle)["report"]
    assert report["published"] == FALLBACK_PUBLISHED == "1970-01-01T00:00:00Z"
    assert report["created"] == report["modified"] == FIXED_TIMESTAMP
    assert report["name"] == "Mã độc WannaCry tấn công hàng loạt máy tính"
    assert [m["name"] for m in by_type(bundle)["malware"]] == ["WannaCry"]
    assert validate_string(exporter.bundle_json(), STRICT).is_valid


def test_stix_sink_in_a_run_equals_the_export_command(tmp_path, sample, articles):
    out, sink = tmp_path / "records.jsonl", tmp_path / "run.stix.json"
    result = CliRunner().invoke(app, ["run", str(sample), "-o", str(out), "--sink", f"stix:{sink}", "-q"])
    assert result.exit_code == 0, result.output
    exported = tmp_path / "export.stix.json"
    result = CliRunner().invoke(app, ["export", "stix", str(out), "-o", str(exported)])
    assert result.exit_code == 0, result.output
    security = sum(json.loads(line)["threat"]["is_security"] for line in out.read_text(encoding="utf-8").splitlines())
    assert f"{len(articles)} records, {security} reports" in result.output
    assert sink.read_bytes() == exported.read_bytes()
    assert validate_string(sink.read_text(encoding="utf-8"), STRICT).is_valid


def test_export_reports_lines_that_are_not_records(tmp_path, records):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(records[0].model_dump_json() + "\n{not json\n" + json.dumps({"id": "x"}) + "\n\n",
                     encoding="utf-8")
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["export", "stix", str(mixed), "-o", str(out)])
    assert result.exit_code == 1
    assert "line 2: not a vnsec record" in result.output and "line 3: not a vnsec record" in result.output
    assert len(by_type(json.loads(out.read_text(encoding="utf-8")))["report"]) == 1
