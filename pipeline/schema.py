"""Stage 6's contract: the record, as pydantic models, and its JSON Schema.

``SCHEMA_VERSION`` changes whenever the record's shape does; ``pipeline/record.schema.json`` is
the committed schema (``vnsec schema`` prints it) and a test fails when the two disagree.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0.0"
SCHEMA_FILE = Path(__file__).with_name("record.schema.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Mention(_Strict):
    start: int = Field(ge=0, description="Offset of the first character in `text`.")
    end: int = Field(ge=0, description="Offset after the last character in `text`.")
    text: str


class Organization(_Strict):
    name: str = Field(description="The fullest form used in the article.")
    aliases: list[str] = Field(description="Other forms of the same organisation in the article.")
    mentions: list[Mention]


class Person(Organization):
    role: Optional[str] = Field(description="Role the article states (`giám đốc công nghệ`).")
    affiliation: Optional[str] = Field(description="Organisation the role is held at, as named.")


class Percentage(_Strict):
    value: float
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    unit: Literal["percent", "percentage_point"]
    sentence: int = Field(description="Index into `sentences`; -1 if outside every sentence.")
    measure: Optional[str] = Field(description="The phrase the percentage quantifies.")
    direction: Optional[Literal["increase", "decrease", "share"]]
    range: Optional[Literal["low", "high"]] = Field(description="Bound of a range it belongs to.")


class Sentence(_Strict):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Threat(_Strict):
    is_security: bool
    security_score: float = Field(ge=0, le=1, description="Probability that security is a subject.")
    categories: list[str] = Field(description="Category ids of configs/taxonomy.toml, by score.")
    scores: dict[str, float] = Field(description="Probability of every category id.")


class Source(_Strict):
    url: Optional[str] = None
    published: Optional[str] = None
    feed: Optional[str] = None
    name: Optional[str] = Field(None, description="Publisher or outlet, when the input gives it.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Other source fields of the input.")


class PipelineInfo(_Strict):
    version: str
    models: dict[str, str] = Field(description="Model name -> version and content hash.")


class Record(_Strict):
    """One analysed article."""

    id: str
    schema_version: Literal["1.0.0"] = SCHEMA_VERSION
    title: Optional[str]
    text: str = Field(description="Normalised text; every offset in the record points into it.")
    language: str = Field(description="`vi`, or `en`/`und` for an article that is not Vietnamese.")
    flags: list[str] = Field(description="Notes on the input: `was_segmented`, `not_vietnamese`...")
    tokens: str = Field(description='Exactly underthesea.word_tokenize(text, format="text").')
    sentences: list[Sentence]
    percentages: list[Percentage]
    organizations: list[Organization]
    people: list[Person]
    threat: Threat
    source: Source
    pipeline: PipelineInfo


class Reject(_Strict):
    """An input that did not become a record, and why."""

    input: str
    line: Optional[int] = Field(description="1-based line of a JSONL input; null for whole files.")
    id: Optional[str] = None
    reason: str


def json_schema() -> dict[str, Any]:
    schema = Record.model_json_schema()
    schema["$id"] = f"https://vnsec.invalid/schema/record-{SCHEMA_VERSION}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
