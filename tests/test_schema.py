import json

import jsonschema

from pipeline.schema import SCHEMA_FILE, SCHEMA_VERSION, Record, json_schema, json_schema_text


def test_committed_schema_matches_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "the record models changed: bump SCHEMA_VERSION and run `vnsec schema > pipeline/record.schema.json`")


def test_schema_version_is_in_the_schema():
    schema = json_schema()
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert SCHEMA_VERSION in schema["$id"]


def test_a_record_validates_against_the_committed_schema(nlp):
    record = nlp.analyze("Tin tặc tấn công website của một trường đại học ở Đà Nẵng, 30% dữ liệu bị xóa.",
                         id="t-1", url="https://example.invalid/a", published="2019-05-02")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(record.model_dump_json()), schema)
    assert Record.model_validate_json(record.model_dump_json()) == record


def test_unknown_fields_are_refused():
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        Record.model_validate({"id": "x", "surprise": 1})
