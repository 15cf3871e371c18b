"""STIX 2.1 export: ``--sink stix:PATH`` in a run, ``vnsec export stix RECORDS.jsonl -o BUNDLE.json``.

One bundle per run (or export), built with the ``stix2`` library:

* a ``report`` per security article (``threat.is_security``): ``name`` is the title (or the
  text's first line), ``description`` its first sentences, ``published`` the article's
  ``source.published`` (:data:`FALLBACK_PUBLISHED` when absent or unreadable), ``report_types``
  our categories mapped to STIX's vocabulary (:data:`REPORT_TYPES`; always ``threat-report``),
  ``labels`` our category ids, ``confidence`` the security score as 0-100, the article's URL and id
  as ``external_references``;
* an ``identity`` per organisation (``organization``, with a sector where the gazetteer's type
  gives one) and per person (``individual``) the records name;
* a ``threat-actor`` per threat actor and a ``malware`` (a family) per malware that the text
  names: surface forms of the gazetteers' ``threat_actor`` rows (name and aliases) and of
  ``not_organizations.tsv``'s ``malware`` rows, matched as whole words, case-sensitively;
* an ``identity`` for vnsec itself (``system``), the ``created_by_ref`` of every object.

Everything is deterministic, so re-exporting never duplicates and the same records give a
byte-identical bundle: ids are UUIDv5 from :data:`NAMESPACE` and the record id (reports) or the
normalised name (everything else); a report's ``created``, ``modified`` and ``published`` are its
article's publication time; the other objects hold only what their name determines and carry the
fixed :data:`FIXED_TIMESTAMP`; the bundle id derives from the ids of its reports.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import stix2
from pydantic import ValidationError

from .dates import parse_published
from .emit import SinkFailure, _AtomicLines
from .gazetteer import Gazetteer
from .schema import Record

NAMESPACE = uuid.UUID("6f1c1a0e-3d3b-5c8e-9a57-766e73656321")
FIXED_TIMESTAMP = "1970-01-01T00:00:00.000Z"
FALLBACK_PUBLISHED = "1970-01-01T00:00:00Z"  # a report's date when its article has none we can read
GAZETTEERS = Path(__file__).resolve().parent.parent / "corpora" / "gazetteers"

# Our categories -> STIX 2.1 report-type-ov; categories with no counterpart add only "threat-report".
REPORT_TYPES = {
    "malware": "malware",
    "ransomware": "malware",
    "vulnerability": "vulnerability",
    "phishing": "attack-pattern",
    "ddos": "attack-pattern",
    "intrusion": "attack-pattern",
    "espionage": "threat-actor",
}
# Gazetteer organisation types -> STIX 2.1 industry-sector-ov.
SECTORS = {
    "bank_finance": "financial-services",
    "gov_vn": "government-national",
    "gov_foreign": "government-national",
    "police_vn": "government",
    "cert": "government-public-services",
    "telco_isp": "telecommunications",
    "media": "communications",
    "university_research": "education",
    "tech_company": "technology",
    "security_vendor": "technology",
    "association": "non-profit",
    "intl_body": "non-profit",
}
_DESCRIPTION_SENTENCES = 3
_DESCRIPTION_CHARS = 1000
_NAME_CHARS = 300


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def stix_id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join([kind, *parts]))}"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _matcher(forms: Iterable[str]) -> re.Pattern | None:
    forms = sorted({f for f in forms if f}, key=lambda f: (-len(f), f))
    if not forms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)")


class StixExporter:
    """Collects records and builds their bundle; see the module's documentation."""

    def __init__(self, gazetteers: str | Path = GAZETTEERS):
        gazetteer = Gazetteer.load(gazetteers)
        self._org_types: dict[str, tuple[str, str]] = {
            _key(form): entry for form, entry in gazetteer.organizations.items()}
        self._actor_aliases: dict[str, list[str]] = {}  # canonical threat actor -> its other forms
        self._actor_of: dict[str, str] = {}  # surface form -> canonical threat actor
        for form, (name, kind) in gazetteer.organizations.items():
            if kind == "threat_actor":
                self._actor_of[form] = name
                if form != name:
                    self._actor_aliases.setdefault(name, []).append(form)
                else:
                    self._actor_aliases.setdefault(name, [])
        self._malware_of: dict[str, str] = {}  # surface form -> malware name (first form of its key)
        first_form: dict[str, str] = {}
        for form, kind in gazetteer.not_organizations.items():
            if kind == "malware":
                self._malware_of[form] = first_form.setdefault(_key(form), form)
        self._malware_keys = set(first_form)
        self._actor_pattern = _matcher(self._actor_of)
        self._malware_pattern = _matcher(self._malware_of)
        self.producer = stix2.Identity(
            id=stix_id("identity", "system", "vnsec"), name="vnsec", identity_class="system",
            description="vnsec, Vietnamese security-news analysis", created=FIXED_TIMESTAMP,
            modified=FIXED_TIMESTAMP)
        # id -> STIX object; identities as {kind, sector} until bundle(), when their name is settled
        self._objects: dict[str, Any] = {}
        self._reports: dict[str, stix2.Report] = {}
        self._names: dict[str, set[str]] = {}  # identity id -> names seen (the least one is used)
        self.records = 0

    # -- objects named in a record ------------------------------------------------------------
    def _identity(self, kind: str, name: str, sector: str | None = None) -> str:
        object_id = stix_id("identity", kind, _key(name))
        self._names.setdefault(object_id, set()).add(name)
        if object_id not in self._objects:
            self._objects[object_id] = {"kind": kind, "sector": sector}
        return object_id

    def _threat_actor(self, name: str) -> str:
        object_id = stix_id("threat-actor", _key(name))
        if object_id not in self._objects:
            aliases = self._actor_aliases.get(name, [])
            self._objects[object_id] = stix2.ThreatActor(
                id=object_id, name=name, aliases=aliases or None, threat_actor_types=["unknown"],
                created_by_ref=self.producer.id, created=FIXED_TIMESTAMP, modified=FIXED_TIMESTAMP)
        return object_id

    def _malware(self, name: str) -> str:
        object_id = stix_id("malware", _key(name))
        if object_id not in self._objects:
            self._objects[object_id] = stix2.Malware(
                id=object_id, name=name, is_family=True, created_by_ref=self.producer.id,
                created=FIXED_TIMESTAMP, modified=FIXED_TIMESTAMP)
        return object_id

    def _referenced(self, record: Record) -> list[str]:
        refs: set[str] = set()
        if self._actor_pattern is not None:
            refs.update(self._threat_actor(self._actor_of[m.group(0)]) for m in self._actor_pattern.finditer(record.text))
        if self._malware_pattern is not None:
            refs.update(self._malware(self._malware_of[m.group(0)]) for m in self._malware_pattern.finditer(record.text))
        for org in record.organizations:
            known = [self._org_types[_key(f)] for f in [org.name, *org.aliases] if _key(f) in self._org_types]
            if any(kind == "threat_actor" for _, kind in known):
                refs.add(self._threat_actor(next(name for name, kind in known if kind == "threat_actor")))
            elif _key(org.name) in self._malware_keys:
                continue  # a malware the entity stage took for an organisation; matched above
            elif known:
                name, kind = known[0]
                refs.add(self._identity("organization", name, SECTORS.get(kind)))
            else:
                refs.add(self._identity("organization", org.name))
        for person in record.people:
            refs.add(self._identity("individual", person.name))
        return sorted(refs)

    # -- reports --------------------------------------------------------------------------------
    def add(self, record: Record) -> bool:
        """Add ``record``'s objects; True if it made a report (a security article, new id)."""
        self.records += 1
        if not record.threat.is_security:
            return False
        report_id = stix_id("report", record.id)
        if report_id in self._reports:
            return False
        published = parse_published(record.source.published)
        when = _timestamp(published) if published else FALLBACK_PUBLISHED
        lines = record.text.split("\n")
        sentences = [record.text[s.start:s.end].strip() for s in record.sentences]
        sentences = [s for s in sentences if s and s != (record.title or lines[0]).strip()]
        description = _shorten(" ".join(sentences[:_DESCRIPTION_SENTENCES]), _DESCRIPTION_CHARS)
        report_types = ["threat-report"]
        for category in record.threat.categories:
            mapped = REPORT_TYPES.get(category)
            if mapped and mapped not in report_types:
                report_types.append(mapped)
        references = [{"source_name": "vnsec", "external_id": record.id}]
        if record.source.url:
            references.append({"source_name": record.source.name or record.source.feed or "article",
                               "url": record.source.url})
        refs = self._referenced(record) or [self.producer.id]
        self._reports[report_id] = stix2.Report(
            id=report_id, name=_shorten(record.title or lines[0], _NAME_CHARS), description=description or None,
            published=when, created=when, modified=when, report_types=report_types,
            labels=list(record.threat.categories) or None, confidence=round(record.threat.security_score * 100),
            lang=record.language if record.language != "und" else None, object_refs=refs,
            external_references=references, created_by_ref=self.producer.id)
        return True

    @property
    def reports(self) -> int:
        return len(self._reports)

    def objects(self) -> list:
        """The bundle's objects: vnsec's identity, the named things (by id), the reports (in order)."""
        named = []
        for object_id in sorted(self._objects):
            value = self._objects[object_id]
            if isinstance(value, dict):  # an identity: its name is the least of the forms seen
                value = stix2.Identity(
                    id=object_id, name=min(self._names[object_id]), identity_class=value["kind"],
                    sectors=[value["sector"]] if value["sector"] else None, created_by_ref=self.producer.id,
                    created=FIXED_TIMESTAMP, modified=FIXED_TIMESTAMP)
            named.append(value)
        return [self.producer, *named, *self._reports.values()]

    def bundle(self) -> stix2.Bundle:
        objects = self.objects()
        bundle_id = stix_id("bundle", *sorted(self._reports))
        return stix2.Bundle(objects=objects, id=bundle_id)

    def bundle_json(self) -> str:
        """The bundle as indented JSON (UTF-8 text, keys in the STIX specification's order)."""
        return self.bundle().serialize(pretty=True, ensure_ascii=False) + "\n"


class StixSink:
    """``--sink stix:PATH``: the run's security articles as one STIX 2.1 bundle, written at the end."""

    scheme = "stix"

    def __init__(self, path: str | Path, gazetteers: str | Path = GAZETTEERS):
        self.url = f"stix:{path}"
        self.path = Path(path)
        self._exporter = StixExporter(gazetteers)
        self._failed: list[SinkFailure] = []

    def write(self, record: Record) -> None:
        try:
            self._exporter.add(record)
        except Exception as error:  # noqa: BLE001 - one record STIX refuses must not stop the run
            message = " ".join(str(error).split())[:500]
            self._failed.append(SinkFailure(record.id, f"sink stix failed: {type(error).__name__}: {message}"))

    def failures(self) -> list[SinkFailure]:
        failed, self._failed = self._failed, []
        return failed

    def close(self) -> None:
        out = _AtomicLines(self.path)
        try:
            out.write_line(self._exporter.bundle_json().rstrip("\n"))
        except BaseException:
            out.abort()
            raise
        out.close()

    def abort(self) -> None:
        """A run that stops half-way writes no bundle (and leaves an existing one alone)."""


def add_records(exporter: StixExporter, lines: Iterable[str]) -> list[str]:
    """Add the records of JSONL ``lines`` to ``exporter``; returns the problems found
    (``line N: ...``) for lines that are not records."""
    problems = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = Record.model_validate_json(line)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first.get("loc", ()))) or "record"
            more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
            problems.append(f"line {number}: not a vnsec record: {where}: {first['msg']}{more}")
            continue
        exporter.add(record)
    return problems
