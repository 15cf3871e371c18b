"""Stage 4, entities: organisations and people, merged per article.

Mentions come from the gazetteers (``corpora/gazetteers``), from rules for Vietnamese and foreign
personal names, titles and role appositions, and from organisation patterns (``Công ty X``,
``hãng X``, a name with its acronym in brackets, lists around known organisations, media
credits). Mentions of one entity merge into one record: the fullest form is ``name``, the other
forms are ``aliases``; people get the ``role`` and ``affiliation`` the text states.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .doc import Doc, Span
from .gazetteer import Gazetteer
from .registry import stage

_UNIT = re.compile(r"[^\W_](?:[\w&'’+\-./]*[^\W_])?\+*")
_VI_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
_SPEECH = re.compile(
    r"^\s*(?:\([^)]{1,40}\)\s*)?(?:cho biết|cho hay|nói|khẳng định|nhận định|chia sẻ|phát biểu|"
    r"giải thích|nhấn mạnh|cảnh báo|thừa nhận|tiết lộ|bình luận|nhận xét|trả lời|viết|tuyên bố)\b",
    re.IGNORECASE,
)
_ORG_HEADS = (
    "Công ty", "Tập đoàn", "Tổng công ty", "Ngân hàng", "Trung tâm", "Cục", "Bộ", "Sở", "Viện",
    "Học viện", "Trường", "Đại học", "Hiệp hội", "Hội", "Ủy ban", "Tổng cục", "Vụ", "Văn phòng",
    "Phòng", "Công an", "Tòa án", "Viện kiểm sát", "Báo", "Tạp chí", "Đài", "Quỹ", "Liên minh",
    "Tổ chức", "Nhóm", "Câu lạc bộ", "Chi cục", "Ban", "Bệnh viện", "Cơ quan",
)
_ORG_TRIGGERS = re.compile(
    r"(?:^|(?<=\s))(?:hãng bảo mật|hãng phần mềm|hãng|công ty bảo mật|công ty an ninh mạng|công ty|"
    r"tập đoàn|nhóm tin tặc|nhóm hacker|nhóm|tổ chức|nhà mạng|ngân hàng|trang tin|báo|tờ|hãng tin|"
    r"nhà cung cấp|đại học|trường)\s+$"
)
# Lowercase words that may stand inside an organisation's name between its head and its
# capitalised part ("Trung tâm nghiên cứu hiểm họa IMlogic"); a function word ends the name.
_NAME_BREAKERS = {
    "đã", "đang", "sẽ", "là", "với", "và", "của", "cho", "được", "bị", "có", "cũng", "vừa", "này",
    "đó", "tại", "ở", "trong", "về", "theo", "từ", "khi", "thì", "mà", "như", "nhưng", "hay",
    "hoặc", "các", "những", "một", "vào", "ra", "lên", "để", "do", "không", "chưa", "rằng",
}
_CREDIT = re.compile(r"(?:\(\s*[Tt]heo\s+|^[Tt]heo\s+|[Ảả]nh\s*:\s*|[Nn]guồn\s*:\s*)", re.MULTILINE)
_BYLINE_MAX_UNITS = 6
_MAX_LOWER_IN_NAME = 5


@dataclass
class _Unit:
    text: str
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() or (self.text[:1].isdigit() and any(c.isupper() for c in self.text))


@dataclass
class _Entity:
    label: str
    key: str
    forms: dict[str, None] = field(default_factory=dict)
    mentions: list[Span] = field(default_factory=list)
    role: str = ""
    affiliation: str = ""

    def add(self, span: Span) -> None:
        self.forms.setdefault(span.text, None)
        self.mentions.append(span)

    def name(self) -> str:
        return max(self.forms, key=lambda f: (len(f.split()), len(f)))


def _is_vietnamese_syllable(word: str) -> bool:
    return word.isalpha() and len(word) <= 7


class EntityRecognizer:
    """Finds organisations and people in normalised Vietnamese text.

    Parameters
    ----------
    gazetteer : Gazetteer
        Known organisations, non-organisations and the person lexicon.
    """

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer
        self._org_forms = self._index(gazetteer.organizations)
        self._blocked_forms = self._index(gazetteer.not_organizations)
        self._titles = {t.lower().rstrip(".") for t in gazetteer.titles}
        self._roles = sorted({r.lower() for r in gazetteer.role_words}, key=len, reverse=True)

    @staticmethod
    def _index(forms) -> dict[str, list[tuple[int, str]]]:
        index: dict[str, list[tuple[int, str]]] = {}
        for form in forms:
            units = _UNIT.findall(form)
            if units:
                index.setdefault(units[0], []).append((len(units), form))
        for candidates in index.values():
            candidates.sort(key=lambda c: -c[0])
        return index

    # -- finding mentions ------------------------------------------------------------------
    def __call__(self, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Span]]:
        """Organisations, people (merged records) and all mentions, for one text."""
        units = [_Unit(m.group(0), m.start(), m.end()) for m in _UNIT.finditer(text)]
        taken = [False] * len(units)
        # Units that are products, malware, places or generic phrases: never part of an
        # organisation, but a place may still be part of a person's name ("Nguyễn Minh Đức").
        blocked = [False] * len(units)
        orgs: dict[str, _Entity] = {}
        people: dict[str, _Entity] = {}

        self._gazetteer_pass(text, units, taken, blocked, orgs)
        not_org = [a or b for a, b in zip(taken, blocked)]
        self._org_pattern_pass(text, units, not_org, orgs)
        self._person_pass(text, units, taken, people, orgs)
        not_org = [a or b for a, b in zip(taken, not_org)]
        self._org_context_pass(text, units, not_org, orgs)
        self._short_form_pass(units, taken, people, orgs)
        self._roles_pass(text, people, orgs)

        mentions = sorted((m for e in [*orgs.values(), *people.values()] for m in e.mentions),
                          key=lambda s: (s.start, s.end))
        return self._records(orgs), self._records(people, with_role=True), mentions

    def _match_forms(self, text, units, i, index) -> tuple[int, str] | None:
        for count, form in index.get(units[i].text, ()):
            j = i + count - 1
            if j < len(units) and text[units[i].start:units[j].end] == form:
                return count, form
        return None

    def _gazetteer_pass(self, text, units, taken, blocked, orgs):
        i = 0
        while i < len(units):
            org = self._match_forms(text, units, i, self._org_forms)
            blocked_form = self._match_forms(text, units, i, self._blocked_forms)
            if blocked_form and (not org or blocked_form[0] >= org[0]):
                for k in range(i, i + blocked_form[0]):
                    blocked[k] = True
                i += blocked_form[0]
                continue
            if org and self._standalone(text, units, i, org[0]):
                count, form = org
                canonical, _type = self.gazetteer.organizations[form]
                self._add(orgs, "ORG", canonical, text, units[i].start, units[i + count - 1].end)
                for k in range(i, i + count):
                    taken[k] = True
                i += count
                continue
            i += 1

    @staticmethod
    def _standalone(text, units, i, count) -> bool:
        """A gazetteer form only counts as a whole name, not as the start of a longer
        capitalised name (``Microsoft`` is not an organisation in ``Microsoft Word``)."""
        j = i + count
        if j < len(units) and units[j].capitalised and text[units[j - 1].end:units[j].start] == " ":
            return False
        return True

    def _org_pattern_pass(self, text, units, taken, orgs):
        """``Cục An toàn thông tin``, ``Trung tâm nghiên cứu hiểm họa IMlogic``: a capitalised
        head, then capitalised words or a few descriptive lowercase words ending capitalised."""
        for i, unit in enumerate(units):
            if taken[i]:
                continue
            head_len = self._org_head(text, units, i)
            if not head_len:
                continue
            j = i + head_len
            last_cap = -1
            lower_run = 0
            while j < len(units) and text[units[j - 1].end:units[j].start] in (" ", " & ", " - "):
                word = units[j].text
                if units[j].capitalised:
                    if taken[j] and last_cap < 0 and lower_run == 0:
                        break
                    last_cap, lower_run = j, 0
                elif word in _NAME_BREAKERS or lower_run >= _MAX_LOWER_IN_NAME:
                    break
                else:
                    lower_run += 1
                j += 1
            if last_cap < 0:
                continue
            start, end = units[i].start, units[last_cap].end
            name = text[start:end]
            if any(taken[k] for k in range(i, last_cap + 1)):
                # A known organisation inside a longer name ("... IMlogic"): the long form joins it.
                inner = next(k for k in range(i, last_cap + 1) if taken[k])
                key = self._entity_at(orgs, units[inner].start)
                if key is not None:
                    self._add(orgs, "ORG", key, text, start, end)
                    for k in range(i, last_cap + 1):
                        taken[k] = True
                continue
            self._add(orgs, "ORG", name, text, start, end)
            for k in range(i, last_cap + 1):
                taken[k] = True

    @staticmethod
    def _org_head(text, units, i) -> int:
        for head in _ORG_HEADS:
            if text.startswith(head, units[i].start):
                count = len(head.split())
                end = units[i + count - 1].end if i + count - 1 < len(units) else -1
                if end == units[i].start + len(head):
                    return count
        return 0

    def _person_pass(self, text, units, taken, people, orgs):
        i = 0
        while i < len(units):
            if taken[i] or not units[i].capitalised:
                i += 1
                continue
            j = i
            while (j + 1 < len(units) and units[j + 1].capitalised and not taken[j + 1]
                   and text[units[j].end:units[j + 1].start] == " "):
                j += 1
            run = units[i:j + 1]
            while run and run[0].text.lower().rstrip(".") in self._titles:
                run = run[1:]
            if run and self._looks_like_person(text, run, units, i):
                start, end = run[0].start, run[-1].end
                self._add(people, "PER", text[start:end], text, start, end)
                for k in range(i, j + 1):
                    taken[k] = True
            i = j + 1

    def _looks_like_person(self, text, run, units, i) -> bool:
        words = [u.text for u in run]
        if not 2 <= len(words) <= 4:
            return False
        whole = " ".join(words)
        if whole in self.gazetteer.organizations or whole in self.gazetteer.not_organizations:
            return False
        if words[0] in self.gazetteer.surnames:
            return all(_is_vietnamese_syllable(w) and w[0].isupper() and not w[1:].isupper() for w in words)
        if any(ch in _VI_LETTERS for w in words for ch in w.lower()):
            return False
        if not all(w.isalpha() and w[0].isupper() and (len(w) == 1 or not w[1:].isupper()) for w in words):
            return False
        before = text[max(0, run[0].start - 40):run[0].start].lower()
        after = text[run[-1].end:run[-1].end + 60]
        titled = any(re.search(rf"(?:^|\s){re.escape(t)}\.?\s*$", before) for t in self._titles)
        roled = any(before.rstrip().endswith(r) for r in self._roles)
        apposition = bool(re.match(r"\s*,\s*(\S+(?:\s\S+)?)", after)) and any(
            after.lstrip(" ,").lower().startswith(r) for r in self._roles)
        return titled or roled or apposition or bool(_SPEECH.match(after)) or self._is_byline(text, run)

    @staticmethod
    def _is_byline(text, run) -> bool:
        line_start = text.rfind("\n", 0, run[0].start) + 1
        line_end = text.find("\n", run[-1].end)
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        return line_end < 0 and len(_UNIT.findall(line)) <= _BYLINE_MAX_UNITS + 4

    def _org_context_pass(self, text, units, taken, orgs):
        """Unknown capitalised names that their context shows to be organisations."""
        for i, unit in enumerate(units):
            if taken[i] or not unit.capitalised or not self._brand_like(unit.text):
                continue
            before = text[max(0, unit.start - 40):unit.start]
            is_org = bool(_ORG_TRIGGERS.search(before.lower()))
            is_org = is_org or bool(_CREDIT.search(before[-12:] if before else ""))
            is_org = is_org or self._in_list_with_org(text, unit, orgs)
            is_org = is_org or (before.rstrip().lower().endswith("của") and self._after_role(before))
            if is_org:
                end_i = i
                while (end_i + 1 < len(units) and units[end_i + 1].capitalised and not taken[end_i + 1]
                       and text[units[end_i].end:units[end_i + 1].start] == " "):
                    end_i += 1
                start, end = unit.start, units[end_i].end
                self._add(orgs, "ORG", text[start:end], text, start, end)
                for k in range(i, end_i + 1):
                    taken[k] = True
        # "Tên đầy đủ (VIẾT TẮT)": the acronym is an alias of the long name.
        for match in re.finditer(r"\(([A-ZĐ][A-Z0-9Đ&/\-.]{1,14})\)", text):
            for entity in orgs.values():
                if any(m.end in (match.start() - 1, match.start()) for m in entity.mentions):
                    acronym = match.group(1)
                    self._add(orgs, "ORG", entity.key, text, match.start(1), match.end(1))
                    for later in re.finditer(rf"(?<![\w]){re.escape(acronym)}(?![\w])", text):
                        if later.start() > match.end():
                            self._add(orgs, "ORG", entity.key, text, later.start(), later.end())
                    break

    def _after_role(self, before: str) -> bool:
        head = before.lower().rsplit("của", 1)[0]
        return any(r in head[-40:] for r in self._roles)

    @staticmethod
    def _brand_like(word: str) -> bool:
        return word[:1].isupper() and not (len(word) == 1) and not any(ch in _VI_LETTERS for ch in word.lower())

    @staticmethod
    def _in_list_with_org(text, unit, orgs) -> bool:
        window_start, window_end = max(0, unit.start - 60), unit.end + 60
        neighbours = re.compile(r"^(?:\s*(?:,|và|hay|hoặc)\s*)$")
        for entity in orgs.values():
            for mention in entity.mentions:
                if window_start <= mention.start and mention.end <= window_end:
                    gap = text[mention.end:unit.start] if mention.end <= unit.start else text[unit.end:mention.start]
                    if neighbours.match(gap) or re.fullmatch(r"(?:\s*(?:,|và)\s*[^\s,]+)*\s*(?:,|và)\s*", gap):
                        return True
        return False

    def _short_form_pass(self, units, taken, people, orgs):
        """Later mentions of a person by surname or given name, or of an organisation by the
        last word of its long name (``Sakoda``, ``IMlogic``)."""
        short_to_person: dict[str, str] = {}
        for key, entity in people.items():
            words = entity.name().split()
            short = words[-1]
            short_to_person.setdefault(short, key)
        for i, unit in enumerate(units):
            if taken[i] or not unit.capitalised:
                continue
            key = short_to_person.get(unit.text)
            if key is not None:
                self._add_span(people, key, Span(unit.start, unit.end, "PER", unit.text))
                taken[i] = True

    def _roles_pass(self, text, people, orgs):
        org_by_start = {m.start: e for e in orgs.values() for m in e.mentions}
        for entity in people.values():
            for mention in entity.mentions:
                role, affiliation = self._role_after(text, mention.end, org_by_start)
                if not role:
                    role, affiliation = self._role_before(text, mention.start, orgs)
                if role:
                    entity.role, entity.affiliation = role, affiliation
                    break

    def _role_after(self, text, end, org_by_start) -> tuple[str, str]:
        after = text[end:end + 120]
        match = re.match(r"\s*(?:\([^)]*\)\s*)?,\s*", after)
        if not match:
            return "", ""
        rest = after[match.end():]
        lowered = rest.lower()
        role = next((r for r in self._roles if lowered.startswith(r)), None)
        if role is None:
            return "", ""
        stop = re.search(r",|\s(?:cho biết|cho hay|nói|khẳng định|nhận định|chia sẻ)\b|[.;:)]", rest)
        phrase = rest[: stop.start() if stop else len(rest)].strip()
        affiliation = ""
        for offset in range(len(phrase)):
            entity = org_by_start.get(end + match.end() + offset)
            if entity is not None:
                affiliation = entity.name()
                phrase_role = phrase[:offset].strip()
                phrase_role = re.sub(r"\s(?:của|tại|thuộc)$", "", phrase_role).strip()
                return phrase_role or phrase, affiliation
        return phrase, affiliation

    def _role_before(self, text, start, orgs) -> tuple[str, str]:
        before = text[max(0, start - 80):start]
        for entity in orgs.values():
            for mention in entity.mentions:
                if 0 < start - mention.end <= 2:
                    head = text[max(0, mention.start - 50):mention.start].lower()
                    role = next((r for r in self._roles if head.rstrip().endswith(r)), None)
                    if role:
                        return role, entity.name()
        lowered = before.lower().rstrip()
        role = next((r for r in self._roles if lowered.endswith(r)), None)
        return (role, "") if role else ("", "")

    # -- bookkeeping -----------------------------------------------------------------------
    @staticmethod
    def _entity_at(entities: dict[str, _Entity], start: int) -> str | None:
        for key, entity in entities.items():
            if any(m.start == start for m in entity.mentions):
                return key
        return None

    def _add(self, entities, label, key, text, start, end):
        entities.setdefault(key, _Entity(label, key))
        self._add_span(entities, key, Span(start, end, label, text[start:end]))

    @staticmethod
    def _add_span(entities, key, span):
        entity = entities[key]
        if not any(m.start == span.start and m.end == span.end for m in entity.mentions):
            entity.add(span)

    @staticmethod
    def _records(entities: dict[str, _Entity], with_role: bool = False) -> list[dict[str, Any]]:
        records = []
        for entity in sorted(entities.values(), key=lambda e: min(m.start for m in e.mentions)):
            name = entity.name()
            record: dict[str, Any] = {
                "name": name,
                "aliases": [f for f in entity.forms if f != name],
                "mentions": [{"start": m.start, "end": m.end, "text": m.text}
                             for m in sorted(entity.mentions, key=lambda m: m.start)],
            }
            if with_role:
                record["role"] = entity.role or None
                record["affiliation"] = entity.affiliation or None
            records.append(record)
        return records


@stage("entities")
def entities_stage(gazetteers: str = "corpora/gazetteers", root: str | Path = "."):
    recognizer = EntityRecognizer(Gazetteer.load(Path(root) / gazetteers))

    def run(doc: Doc) -> Doc:
        doc.organizations, doc.people, doc.entity_mentions = recognizer(doc.text)
        return doc

    return run
