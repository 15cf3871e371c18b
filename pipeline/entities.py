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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .doc import Doc, Span, Token
from .gazetteer import Gazetteer
from .ner_model import CrfTagger
from .registry import stage

_UNIT = re.compile(r"[^\W_](?:[\w&'’+\-.]*[^\W_])?\+*")
_VI_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
_SPEECH = re.compile(
    r"^\s*(?:\([^)]{1,40}\)\s*)?(?P<comma>,\s*)?(?:cho biết|cho hay|nói|khẳng định|nhận định|chia sẻ|phát biểu|"
    r"giải thích|nhấn mạnh|cảnh báo|thừa nhận|tiết lộ|bình luận|nhận xét|trả lời|viết|tuyên bố)\b",
    re.IGNORECASE,
)
_ORG_HEADS = (
    "Công ty", "Tập đoàn", "Tổng công ty", "Ngân hàng", "Trung tâm", "Cục", "Bộ", "Sở", "Viện",
    "Học viện", "Trường", "Đại học", "Hiệp hội", "Hội", "Ủy ban", "Tổng cục", "Vụ", "Văn phòng",
    "Phòng", "Công an", "Tòa án", "Viện kiểm sát", "Báo", "Tạp chí", "Đài", "Quỹ", "Liên minh",
    "Tổ chức", "Nhóm", "Câu lạc bộ", "Chi cục", "Ban", "Bệnh viện", "Cơ quan",
)
# A kind of organisation, then up to three descriptive words, right before an unknown name:
# "hãng Sybari", "tập đoàn dầu khí Rosneft".
_ORG_HEADS_BY_FIRST_WORD: dict[str, list[str]] = {}
for _head in sorted(_ORG_HEADS, key=len, reverse=True):
    _ORG_HEADS_BY_FIRST_WORD.setdefault(_head.split()[0], []).append(_head)
_ORG_TRIGGERS = re.compile(
    r"(?:^|(?<=\s))(?P<kind>hãng|công ty|tập đoàn|nhóm tin tặc|nhóm hacker|nhóm|tổ chức|nhà mạng|"
    r"ngân hàng|trang tin|báo|tờ|hãng tin|nhà cung cấp|trường đại học|đại học|học viện|viện|trường)"
    r"(?P<descr>(?:\s+[^\W\d_]+){0,3}?)\s+$"
)
# Kinds that are part of the institution's name ("trường đại học Cambridge"); a company's kind
# is not ("hãng Sybari").
_KINDS_IN_NAME = {"trường đại học", "đại học", "học viện", "viện", "trường"}
# A company's or medium's kind and descriptive words before its proper name: "Công ty CP bóng
# đèn Điện Quang", "Báo điện tử Dân trí".
_COMPANY_KIND = re.compile(
    r"^(?:[Cc]ông ty|[Tt]ập đoàn|[Tt]ổng công ty|[Hh]ãng|[Hh]ãng tin|[Bb]áo|[Tt]ạp chí|[Tt]rang tin)(?:\s+(?:TNHH|CP|MTV|[Cc]ổ phần|[^\W\d_A-ZĐ][^\W\d_]*)){0,5}?"
    r"\s+(?!(?:TNHH|CP|MTV|[Cc]ổ phần)\b)(?P<name>[A-ZĐ0-9][^\s]*(?:\s+\S+)*)$"
)
# Lowercase words that may stand inside an organisation's name between its head and its
# capitalised part ("Trung tâm nghiên cứu hiểm họa IMlogic"); a function word ends the name.
_NAME_BREAKERS = {
    "đã", "đang", "sẽ", "là", "với", "và", "của", "cho", "được", "bị", "có", "cũng", "vừa", "này",
    "đó", "tại", "ở", "trong", "về", "theo", "từ", "khi", "thì", "mà", "như", "nhưng", "hay",
    "hoặc", "các", "những", "một", "vào", "ra", "lên", "để", "do", "không", "chưa", "rằng", "nhất",
}
# Words that begin with an organisation's head but name no organisation ("Hội_thảo Ứng_dụng ...").
_HEAD_IN_COMMON_WORD = {"hội thảo", "hội nghị", "báo cáo", "ban hành", "sở hữu", "phòng chống", "phòng ngừa",
                        "trường hợp", "bộ phận", "ban đầu", "hội viên", "báo chí", "quỹ đạo", "vụ việc", "vụ án",
                        "bộ phim", "bộ máy", "bộ sưu", "bộ trưởng", "cục trưởng", "viện trưởng", "sở trưởng",
                        "vụ trưởng", "trưởng phòng", "phòng ngự", "đài loan", "hội chứng", "ban giám", "ban giám khảo"}
# Units that carry a number in their names.
_NUMBERED_UNITS = {"quận", "phường", "khu", "đoàn", "đội", "trại", "tổ", "phòng", "cục", "vụ", "kênh"}
# Last words of foreign company and institution names.
_CORPORATE_SUFFIXES = {
    "Inc", "Inc.", "Corp", "Corp.", "Corporation", "Co.", "Ltd", "Ltd.", "LLC", "PLC", "Plc", "GmbH", "AG",
    "SA", "S.A.", "SRL", "NV", "N.V.", "BV", "Group", "Holdings", "International", "Networks", "Systems",
    "Technologies", "Technology", "Solutions", "Labs", "Laboratories", "Electric", "Electronics",
    "Telecom", "Telecommunications", "Communications", "Institute", "Organization", "Organisation",
    "Association", "Foundation", "Agency", "Bank", "Airlines", "Motors", "Pharmaceuticals", "Partners",
    "Capital", "Ventures", "Research", "Consulting", "Media", "Entertainment", "Studios",
    "University", "College", "Club", "Alliance", "Council", "Committee", "Bureau", "Department",
}
# Verbs that end an organisation's name where its lowercase words would go on ("Bộ báo cáo Ban Bí thư").
_VERB_IN_NAME = re.compile(
    r"(?:báo cáo|cho biết|cho hay|yêu cầu|đề nghị|phối hợp|kiểm tra|xác nhận|công bố|thông báo|cảnh báo|"
    r"khẳng định|tuyên bố|phát hiện|kết luận|chỉ đạo|đề xuất|quyết định|triển khai|tiếp nhận|gửi)\b")
# Gazetteer forms that are more often something else in news text.
_NOT_NAMES = {"MB", "GB", "KB", "TB", "IT", "PC", "CEO", "USB", "SIM", "PV", "CTV", "BTV", "24h"}
_BODIES_OF_A_COUNTRY = {"gov_vn", "gov_foreign", "police_vn", "association", "cert", "university_research"}
_SHORT_FORM_KINDS = {"media", "intl_body", "gov_foreign", "gov_vn", "cert", "police_vn"}
_PLATFORM_CUE = re.compile(r"(?:trên|qua|lên|vào|dùng|sử dụng|tài khoản|mạng xã hội|ứng dụng|trang|fanpage)\s+$", re.I)
# A product's kind right before a company's name: the product, not the company ("trình duyệt
# FireFox", "chiếc Nokia", "máy Compaq", "mạng nhắn tin America Online", "công nghệ VoIP").
_PRODUCT_CUE = re.compile(
    r"(?:^|\s)(?:trình duyệt|máy|chiếc|phiên bản|dòng máy|công nghệ|dịch vụ(?: như)?|phần mềm|hệ điều hành|"
    r"điện thoại|(?<!nhà )mạng(?: [^\W\d_A-ZĐ]+){1,4})\s+$")
_SENTENCE_OPENERS = {"Theo", "Và", "Nhưng", "Còn", "Khi", "Sau", "Trong", "Tại", "Với", "Của", "Các",
                     "Những", "Hiện", "Nay", "Tuy", "Ngoài", "Trước", "Đến", "Từ", "Vì", "Do", "Nếu"}
# A source or photo credit right before a name: "(Theo AFP)", "Theo Reuters, ...", "Ảnh: EPA".
_CREDIT = re.compile(r"(?:\(\s*[Tt]heo|(?:^|(?<=[.!?]\s))[Tt]heo|[Ảả]nh(?: minh họa| minh hoạ)?\s*:|[Nn]guồn\s*:)\s*$",
                     re.MULTILINE)
# A place's kind right before capitalised words: "TP Hồ Chí Minh", "sân bay Tân Sơn Nhất",
# "đường Nguyễn Huệ". After an administrative unit a person's name is as likely ("Chủ tịch UBND
# tỉnh Nguyễn Văn A"), so there only known places and names without a surname are refused.
_PLACE_CUE = re.compile(
    r"(?:^|(?<=\s))(?:(?P<admin>[Tt]ỉnh|[Qq]uận|[Hh]uyện|[Pp]hường|[Xx]ã)|TP\.?|Tp\.?|[Tt]hành phố|[Đđ]ường|[Pp]hố|"
    r"[Ss]ân bay|[Qq]uảng trường|[Tt]rường|[Cc]hùa|[Đđ]ền|[Cc]ầu|[Ss]ông|[Nn]úi|[Bb]iển|[Vv]ịnh|[Đđ]ảo|[Cc]ảng|[Cc]hợ|"
    r"[Kk]hu|[Ll]àng|[Bb]ang|[Vv]ùng|[Mm]iền|[Cc]ông viên|[Bb]ảo tàng)\s+$"
)
# An age in apposition: "Sven Jaschan, 19 tuổi, ...", "chị Thương (30 tuổi, ...)".
_AGE = re.compile(r"\s*(?:,|\()\s*\d{1,3}\s+tuổi\b")
_BYLINE_MAX_UNITS = 6
_MAX_LOWER_IN_NAME = 5
_MAX_TAIL = 8


@dataclass
class _Unit:
    text: str
    start: int
    end: int
    capitalised: bool = field(init=False)

    def __post_init__(self) -> None:
        # Read hundreds of times per article: computed once.
        self.capitalised = self.text[:1].isupper() or (self.text[:1].isdigit() and any(c.isupper() for c in self.text))


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


_BREAK_IN_WORD = re.compile(r"\n|(?<=\.) ")


def _split_at_breaks(text: str, tokens) -> list[tuple[int, int]]:
    """Word spans cut at line breaks and after full stops: underthesea joins words across them
    (a signature line becomes ``Trần_Xuân_Lưu Hồi_âm``, a byline ``HP._Đăng_Khoa``), and a
    name never spans them."""
    breaks = [(m.start(), m.end()) for m in _BREAK_IN_WORD.finditer(text)]
    spans, b = [], 0
    for token in tokens:
        start = token.start
        while b < len(breaks) and breaks[b][0] < token.start:
            b += 1
        k = b
        while k < len(breaks) and breaks[k][0] < token.end:
            spans.append((start, breaks[k][0]))
            start = breaks[k][1]
            k += 1
        spans.append((start, token.end))
    return spans


_VI_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?[aăâeêioôơuưy]{1,3}"
                          r"(?:ch|ng|nh|[cmnptiyou])?$")
_TONE_MARKS = dict.fromkeys(map(ord, "\u0300\u0301\u0303\u0309\u0323"))


def _toneless(word: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", word).translate(_TONE_MARKS))


def _is_vietnamese_syllable(word: str) -> bool:
    return word.isalpha() and len(word) <= 7


class EntityRecognizer:
    """Finds organisations and people in normalised Vietnamese text.

    Parameters
    ----------
    gazetteer : Gazetteer
        Known organisations, non-organisations and the person lexicon.
    tagger : CrfTagger, optional
        The statistical tagger (:mod:`pipeline.ner_model`); its mentions are taken after the
        gazetteer's and before the rules'. It needs the text's underthesea tokens.
    tagger_labels : sequence of str
        Which of the tagger's labels (``ORG``, ``PER``) to use.
    """

    def __init__(self, gazetteer: Gazetteer, tagger: "CrfTagger | None" = None,
                 tagger_labels: Sequence[str] = ("ORG", "PER")):
        self.gazetteer = gazetteer
        self.tagger = tagger
        self.tagger_labels = set(tagger_labels)
        self._org_forms = self._index(gazetteer.organizations)
        # One-word names written in other capitals ("BKAV", "MICROSOFT", "FaceBook").
        self._org_forms_folded = {form.casefold(): form for form in gazetteer.organizations
                                  if len(form) >= 4 and _UNIT.fullmatch(form)}
        self._blocked_forms = self._index(gazetteer.not_organizations)
        self._place_forms = self._index(f for f, kind in gazetteer.not_organizations.items() if kind == "place")
        self._titles = {t.lower().rstrip(".") for t in gazetteer.titles}
        self._roles = sorted({r.lower() for r in gazetteer.role_words}, key=len, reverse=True)
        # Lowercase words of at least two organisations' names: one name's rare word ("phối" of
        # "phối hợp") would let a verb into a name.
        tail_counts = Counter(w for name in set(gazetteer.organizations.values()) for w in set(name[0].split()[1:])
                              if w.islower() and w not in _NAME_BREAKERS)
        self._name_tail_words = {w for w, count in tail_counts.items() if count >= 2}
        # Capitalised words of organisation, product and place names that are not personal names.
        person_words = gazetteer.surnames | gazetteer.middle_names | gazetteer.foreign_given_names
        self._thing_words = {w for form in [*gazetteer.organizations, *gazetteer.not_organizations]
                             for w in form.split() if w[:1].isupper() and w.isalpha() and w not in person_words}
        # Words of organisation and product names; places' words are common in foreign people's
        # names (Francisco, Jordan).
        self._brand_words = {w for w in self._thing_words if not any(
            w in form.split() for form, kind in gazetteer.not_organizations.items() if kind == "place")}

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
    def __call__(self, text: str, tokens: "Sequence[Token] | None" = None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Span]]:
        """Organisations, people (merged records) and all mentions, for one text.

        tokens: the text's words as underthesea segments them; they tell where a name ends
        (``Bộ Công_an``, ``Nguyễn_Minh_Đức`` but ``Phó_Chủ_tịch``) and feed the statistical
        tagger. Without them each syllable is its own word and only gazetteers and rules run.
        """
        units = [_Unit(m.group(0), m.start(), m.end()) for m in _UNIT.finditer(text)]
        word_start, word_end = self._word_bounds(units, _split_at_breaks(text, tokens or ()))
        # taken: the unit belongs to a mention. blocked: a product, malware, place or generic
        # phrase, never part of an organisation, though a place may be part of a person's name.
        taken = [False] * len(units)
        blocked = [False] * len(units)
        orgs: dict[str, _Entity] = {}
        people: dict[str, _Entity] = {}

        self._gazetteer_pass(text, units, taken, blocked, orgs)
        self._corporate_suffix_pass(text, units, word_end, taken, blocked, orgs)
        if self.tagger is not None and tokens:
            self._statistical_pass(text, units, word_end, self.tagger.spans(text, tokens), taken, blocked, orgs, people)
        self._org_pattern_pass(text, units, word_end, taken, blocked, orgs)
        self._person_pass(text, units, word_start, word_end, taken, people)
        self._org_context_pass(text, units, word_start, word_end, taken, blocked, orgs, people)
        self._short_form_pass(units, taken, people)
        self._merge_short_names(people)
        self._company_short_names(orgs)
        self._merge_shortened_bodies(orgs)
        self._roles_pass(text, people, orgs)

        mentions = sorted((m for e in [*orgs.values(), *people.values()] for m in e.mentions),
                          key=lambda s: (s.start, s.end))
        return self._records(orgs), self._records(people, with_role=True), mentions

    def _statistical_pass(self, text, units, word_end, spans, taken, blocked, orgs, people):
        """Mentions the CRF proposes, trimmed to what a name can be: capitalised words at both
        ends, no title or sentence opener in front, one line; a person needs two words or more
        (a single word only joins a full name, in :meth:`_short_form_pass`)."""
        starts = {u.start: i for i, u in enumerate(units)}
        for span in spans:
            first = starts.get(span.start)
            if first is None or span.label not in self.tagger_labels:
                continue
            last = first
            while last + 1 < len(units) and units[last + 1].end <= span.end:
                last += 1
            while first <= last and (not units[first].capitalised or self._not_name_start(units[first].text, 3)
                                     or units[first].text.lower() in self._roles):
                first += 1
            while last >= first and not units[last].capitalised and units[last].end > word_end[last - 1 if last > first else first]:
                last -= 1
            if first > last or "\n" in text[units[first].start:units[last].end]:
                continue
            covered = range(first, last + 1)
            name = text[units[first].start:units[last].end]
            if any(taken[k] for k in covered) or name in _NOT_NAMES or len(name) <= 2:
                continue
            if span.label == "PER":
                first = self._name_start_inside(units, first, last)  # "Bộ trưởng Công Thương Trần Tuấn Anh"
                covered = range(first, last + 1)
                name = text[units[first].start:units[last].end]
                words = [units[k].text for k in covered]
                if (len(words) < 2 or not all(w[:1].isupper() and w.replace(".", "").isalpha() for w in words)
                        or name in self.gazetteer.not_organizations or name in self.gazetteer.organizations
                        or self._after_place_kind(text, units[first].start, words)
                        or not self._plausible_tagged_person(text, units, first, last, words)):
                    continue
                target = people
            else:
                if any(blocked[k] for k in covered) or name in self.gazetteer.not_organizations:
                    continue
                target = orgs
            self._add(target, span.label, name, text, units[first].start, units[last].end)
            for k in covered:
                taken[k] = True

    def _corporate_suffix_pass(self, text, units, word_end, taken, blocked, orgs):
        """Foreign names that end with a company's or institution's word: ``Mondelez
        International``, ``Celestix Networks``, ``Napster LLC``, ``Yano Research Institute``."""
        i = 0
        while i < len(units):
            j = i
            while (j < len(units) and not taken[j] and not blocked[j] and units[j].capitalised
                   and not any(ch in _VI_LETTERS for ch in units[j].text.lower())
                   and (j == i or text[units[j - 1].end:units[j].start] == " ")):
                j += 1
            last = j - 1
            while last > i and units[last].text not in _CORPORATE_SUFFIXES:
                last -= 1
            if (last > i and units[i].text not in _SENTENCE_OPENERS and word_end[last] == units[last].end
                    and units[i].text not in self.gazetteer.organizations  # "VNPT Group", "Microsoft Research"
                    and units[i].text.lower().rstrip(".") not in self._titles):
                start, end = units[i].start, units[last].end
                self._add(orgs, "ORG", text[start:end], text, start, end)
                for k in range(i, last + 1):
                    taken[k] = True
            i = max(j, i + 1)

    def _after_place_kind(self, text, start, words) -> bool:
        cue = _PLACE_CUE.search(text, max(0, start - 20), start)
        if cue is None:
            return False
        return not cue.group("admin") or words[0] not in self.gazetteer.surnames or \
            " ".join(words) in self.gazetteer.not_organizations

    def _plausible_tagged_person(self, text, units, first, last, words) -> bool:
        """A person the tagger proposes, unless its words are those of organisations and products
        (``Moon Secure``, ``Access Memory``) or it stands in a title-case headline; a
        Vietnamese-looking name without a surname also needs a person's context."""
        run = units[first:last + 1]
        if any(len(w) > 1 and w.isupper() for w in words) and not self._is_byline(text, run):
            return False  # an all-capitals heading ("THỊ TRƯỜNG NÓNG"); a byline may be in capitals
        if words[0] in self.gazetteer.surnames or words[0] in self.gazetteer.foreign_given_names:
            return True
        if self._person_cue(text, run):
            return True
        line_start = text.rfind("\n", 0, run[0].start) + 1
        line_end = text.find("\n", run[-1].end)
        line = text[line_start:line_end if line_end >= 0 else len(text)].split()
        if len(line) > 3 and sum(w[:1].isupper() for w in line) > 0.6 * len(line):
            return False
        return not any(w in self._thing_words for w in words)

    def _merge_short_names(self, people: dict[str, "_Entity"]) -> None:
        """A shorter name (``Sakoda``, ``Kim Thoa``) is the person whose longer name ends with it;
        one word may also start a foreign name (``ông Robert`` after ``Robert Edwards``)."""
        for key in sorted(people, key=lambda k: len(people[k].name().split())):
            words = people[key].name().split()
            longer = [e for e in people.values() if len(e.name().split()) > len(words)]
            owner = next((e for e in longer if e.name().split()[-len(words):] == words), None)
            if owner is None and len(words) == 1:
                owner = next((e for e in longer if e.name().split()[0] == words[0] and self._foreign_name(e.name())), None)
            if owner is not None:
                for mention in people.pop(key).mentions:
                    if not any(m.start == mention.start for m in owner.mentions):
                        owner.add(mention)

    def _merge_shortened_bodies(self, orgs: dict[str, "_Entity"]) -> None:
        """One body written longer and shorter in one article: "Sở Thông tin và Truyền thông
        TPHCM" and "Sở Thông tin và Truyền thông", "Cục Công nghệ tin học" and "Cục Công nghệ",
        "Bộ Công Thương" and "Bộ Công thương". The shorter has a head and two words or more; the
        rest of the longer is lowercase words or a place."""
        for key in sorted(orgs, key=lambda k: (len(orgs[k].name()), k)):
            entity = orgs.get(key)
            if entity is None:
                continue
            short = entity.name()
            if len(short.split()) < 2 or not any(short.startswith(h + " ") for h in _ORG_HEADS):
                continue
            for other_key, other in orgs.items():
                if other is entity:
                    continue
                if any(self._shortened(short, form) for form in other.forms):
                    self._merge(orgs, key, other_key)
                    break

    def _shortened(self, short: str, form: str) -> bool:
        if form.casefold() == short.casefold():
            return True
        if not form.casefold().startswith(short.casefold() + " "):
            return False
        rest = form[len(short) + 1:]
        if rest in self.gazetteer.not_organizations:
            return self.gazetteer.not_organizations[rest] == "place"
        words = rest.split()
        return all(w.islower() and w.isalpha() for w in words[:-1]) and (
            words[-1].islower() or self.gazetteer.not_organizations.get(words[-1]) == "place")

    def _foreign_name(self, name: str) -> bool:
        return name.split()[0] not in self.gazetteer.surnames and not any(ch in _VI_LETTERS for ch in name.lower())

    def _company_short_names(self, orgs: dict[str, "_Entity"]) -> None:
        """``Công ty bảo mật Akonix Systems`` is also ``Akonix Systems``: the proper name after a
        company's kind and descriptive words becomes a form of the entity, and an entity named
        by that form alone is the same one."""
        for key in list(orgs):
            entity = orgs.get(key)
            if entity is None:
                continue
            for form in list(entity.forms):
                match = _COMPANY_KIND.match(form)
                bare = match.group("name") if match else None
                if re.match(r"[Tt]rường (?:đại học|Đại học|cao đẳng|Cao đẳng) \S", form):
                    bare = form.split(" ", 1)[1]  # "trường đại học Cambridge" is also "đại học Cambridge"
                if not bare or len(bare) < 3 or bare in self.gazetteer.not_organizations:
                    continue
                entity.forms.setdefault(bare, None)
                for other_key, other in list(orgs.items()):
                    if other is not entity and bare in other.forms:
                        self._merge(orgs, other_key, key)
        # "Aladdin" after "Aladdin Knowledge Systems": a foreign name's first words are that name.
        for key in sorted(orgs, key=lambda k: len(orgs[k].name())):
            entity = orgs.get(key)
            if entity is None or len(entity.forms) != 1 or not self._brand_like(entity.name().split()[0]):
                continue
            short = entity.name()
            owner = next((k for k, e in orgs.items() if e is not entity and any(
                form.startswith(short + " ") and not any(ch in _VI_LETTERS for ch in form.lower())
                for form in e.forms)), None)
            if owner is not None:
                self._merge(orgs, key, owner)

    @staticmethod
    def _word_bounds(units, words):
        if not words:
            return [u.start for u in units], [u.end for u in units]
        starts, ends, w = [], [], 0
        for unit in units:
            while w < len(words) and words[w][1] <= unit.start:
                w += 1
            if w < len(words) and words[w][0] <= unit.start < words[w][1]:
                starts.append(words[w][0])
                ends.append(max(words[w][1], unit.end))
            else:
                starts.append(unit.start)
                ends.append(unit.end)
        return starts, ends

    def _match_forms(self, text, units, i, index) -> tuple[int, str] | None:
        for count, form in index.get(units[i].text, ()):
            j = i + count - 1
            if j < len(units) and text[units[i].start:units[j].end] == form:
                return count, form
        return None

    def _match_other_capitals(self, unit) -> tuple[int, str] | None:
        word = unit.text
        if len(word) < 4 or not any(ch.isupper() for ch in word[1:]):
            return None
        form = self._org_forms_folded.get(word.casefold())
        return (1, form) if form is not None else None

    def _gazetteer_pass(self, text, units, taken, blocked, orgs):
        i = 0
        while i < len(units):
            org = self._match_forms(text, units, i, self._org_forms) or self._match_other_capitals(units[i])
            blocked_form = self._match_forms(text, units, i, self._blocked_forms)
            if blocked_form and (not org or blocked_form[0] >= org[0]):
                for k in range(i, i + blocked_form[0]):
                    blocked[k] = True
                i += blocked_form[0]
                continue
            if org and (self._standalone(text, units, i, org[0], self.gazetteer.surnames) or self._agency_acronym(units, i, org)) \
                    and self._org_in_context(text, units[i], org[1]):
                count, form = org
                canonical, kind = self.gazetteer.organizations[form]
                place = self._match_forms(text, units, i + count, self._place_forms) if (
                    kind in _BODIES_OF_A_COUNTRY and i + count < len(units)
                    and text[units[i + count - 1].end:units[i + count].start] == " ") else None
                if place:
                    # "Bộ Nội vụ Nga", "Chính phủ Đức": another country's body, not ours.
                    count += place[0]
                    if place[1] not in ("Việt Nam", "Vietnam"):
                        canonical = text[units[i].start:units[i + count - 1].end]
                self._add(orgs, "ORG", canonical, text, units[i].start, units[i + count - 1].end)
                for k in range(i, i + count):
                    taken[k] = True
                i += count
                continue
            i += 1

    def _org_in_context(self, text, unit, form) -> bool:
        """Short forms that are also units or words (``MB``), and platforms used as places
        (``trên Facebook``), are not organisations there."""
        _name, kind = self.gazetteer.organizations[form]
        if form in _NOT_NAMES or (len(form) <= 2 and kind not in _SHORT_FORM_KINDS and form != _name):
            return False
        before = text[max(0, unit.start - 40):unit.start]
        if kind == "tech_company" and (_PLATFORM_CUE.search(before) or _PRODUCT_CUE.search(before)):
            return False
        return True

    def _agency_acronym(self, units, i, org) -> bool:
        """An agency's or medium's acronym stays a name before the next sentence's capital
        (``Ảnh: EPA/TTXVN Ủy viên ...``, ``Theo TTXVN PV``); a company's does not (``HP Sure Start``)."""
        count, form = org
        j = i + count
        return (count == 1 and form.isupper() and self.gazetteer.organizations[form][1] in _SHORT_FORM_KINDS
                and j < len(units) and (not units[j].text.isupper() or units[j].text in _NOT_NAMES))

    @staticmethod
    def _standalone(text, units, i, count, surnames) -> bool:
        """A one-word gazetteer form only counts as a whole name, not as the start of a longer
        capitalised name (``Microsoft`` is not an organisation in ``Microsoft Word``), unless
        a person's name follows (``Giám đốc Bkav Nguyễn Tử Quảng``)."""
        j = i + count
        return not (count == 1 and j < len(units) and units[j].capitalised
                    and units[j].text not in surnames and text[units[j - 1].end:units[j].start] == " ")

    def _org_pattern_pass(self, text, units, word_end, taken, blocked, orgs):
        """``Cục An toàn thông tin``, ``Bộ Thông tin và Truyền thông``, ``Trung tâm nghiên cứu
        hiểm họa IMlogic``: a capitalised head, then capitalised words, a few descriptive
        lowercase words, or ``và`` between capitalised words; it ends with a capitalised word
        (and the rest of that word as underthesea segments it: ``Công_an``)."""
        for i, unit in enumerate(units):
            if taken[i] or blocked[i]:
                continue
            head_len = self._org_head(text, units, i)
            if not head_len:
                continue
            j = i + head_len
            if j < len(units) and not units[j].capitalised and (
                    text[units[i].start:units[j].end].lower() in self._roles
                    or text[units[i].start:units[j].end].lower() in _HEAD_IN_COMMON_WORD):
                continue  # the head begins another word: "Bộ trưởng", "Viện trưởng", "Hội thảo", "Bộ phim"
            last_cap = -1
            lower_run = 0
            while j < len(units) and text[units[j - 1].end:units[j].start] in (" ", " & ", " - "):
                word = units[j].text
                if blocked[j]:
                    place = self._match_forms(text, units, j, self._place_forms)
                    if last_cap >= 0 and place:
                        last_cap = j + place[0] - 1  # "Bộ Quốc phòng Mỹ", "Trung tâm Giao dịch CNTT Hà Nội"
                    break
                if word.isdigit() and len(word) <= 3 and units[j - 1].text.lower() in _NUMBERED_UNITS:
                    last_cap, lower_run = j, 0  # "Công an quận 11", "Bộ tư lệnh Quân khu 7"
                elif units[j].capitalised:
                    if taken[j] and last_cap < 0 and lower_run == 0:
                        break
                    if ((units[j].text in self.gazetteer.surnames or units[j].text in self.gazetteer.foreign_given_names)
                            and (lower_run or last_cap >= 0)):
                        break  # a person's name after the organisation's ("Cục ATTT Trần Quang Hưng", "... bang John Kasich")
                    last_cap, lower_run = j, 0
                elif (word in ("và", "về") and last_cap >= 0 and j + 1 < len(units) and units[j + 1].capitalised
                      and not taken[j + 1] and not self._head_of_another(text, units, j + 1)):
                    lower_run += 1
                elif word in _NAME_BREAKERS or lower_run >= _MAX_LOWER_IN_NAME or _VERB_IN_NAME.match(text, units[j].start):
                    break
                else:
                    lower_run += 1
                j += 1
            if last_cap < 0:
                continue
            # A lowercase tail made of words that organisations' names use: "Cục Cảnh sát phòng
            # chống tội phạm công nghệ cao"; it ends where an underthesea word ends.
            tail = last_cap
            while (tail + 1 < len(units) and tail - last_cap < _MAX_TAIL and units[tail + 1].text in self._name_tail_words
                   and not taken[tail + 1] and not blocked[tail + 1]
                   and text[units[tail].end:units[tail + 1].start] == " "):
                tail += 1
            while tail > last_cap and word_end[tail] > units[tail].end:
                tail -= 1
            last_cap = tail
            last = last_cap
            while last + 1 < len(units) and units[last + 1].end <= word_end[last_cap]:
                last += 1
            start, end = units[i].start, units[last].end
            if any(taken[k] for k in range(i, last + 1)):
                # A known organisation inside a longer name ("... IMlogic"): the long form joins it,
                # unless the known one has a head of its own: "Ban cán sự Bộ Công Thương" is a
                # body of the ministry, another organisation.
                inner = next(k for k in range(i, last + 1) if taken[k])
                key = self._entity_at(orgs, units[inner].start)
                if key is not None and inner > i and self._org_head(text, units, inner):
                    key = text[start:end]
                if key is not None:
                    self._add(orgs, "ORG", key, text, start, end)
                    for k in range(i, last + 1):
                        taken[k] = True
                continue
            self._add(orgs, "ORG", text[start:end], text, start, end)
            for k in range(i, last + 1):
                taken[k] = True

    def _head_of_another(self, text, units, i) -> bool:
        """A second organisation's head after "và" ("Bộ Tài chính và Bộ Công Thương"), not a word
        that starts with one ("... Phân tích và Báo cáo ...")."""
        head_len = self._org_head(text, units, i)
        j = i + head_len
        return bool(head_len) and not (j < len(units) and not units[j].capitalised
                                       and text[units[i].start:units[j].end].lower() in _HEAD_IN_COMMON_WORD)

    @staticmethod
    def _org_head(text, units, i) -> int:
        for head in _ORG_HEADS_BY_FIRST_WORD.get(units[i].text, ()):
            if text.startswith(head, units[i].start):
                count = len(head.split())
                end = units[i + count - 1].end if i + count - 1 < len(units) else -1
                if end == units[i].start + len(head):
                    return count
        return 0

    def _person_pass(self, text, units, word_start, word_end, taken, people):
        i = 0
        while i < len(units):
            if taken[i] or not units[i].capitalised:
                i += 1
                continue
            j = i
            while (j + 1 < len(units) and units[j + 1].capitalised and not taken[j + 1]
                   and text[units[j].end:units[j + 1].start] == " "):
                j += 1
            first, last = i, j
            signature = self._is_byline(text, units[i:j + 1])
            while (first <= last and self._not_name_start(units[first].text, last - first + 1,
                                                          units[first + 1].text if first < last else "")
                   and not (signature and units[first].text.lower() in self._titles)):
                first += 1
            first = self._name_start_inside(units, first, last)
            if (first <= last and units[first].text not in self.gazetteer.surnames
                    and units[first].text not in self.gazetteer.foreign_given_names
                    and _CREDIT.search(text[:units[first].start], max(0, units[first].start - 20))
                    and not self._person_cue(text, units[first:last + 1])):
                i = j + 1
                continue  # "Theo Tin Tức": a credited source; "Theo Francisco Kattan, giám đốc ..." is not
            if (first <= last and word_start[first] >= units[first].start and word_end[last] <= units[last].end
                    and not self._after_place_kind(text, units[first].start, [u.text for u in units[first:last + 1]])
                    and self._looks_like_person(text, units[first:last + 1],
                                                self._titled(text, units, first, word_start, word_end))):
                start, end = units[first].start, units[last].end
                self._add(people, "PER", text[start:end], text, start, end)
                for k in range(first, last + 1):
                    taken[k] = True
            i = j + 1

    def _name_start_inside(self, units, first, last) -> int:
        """Where a person's name starts inside a capitalised run that begins with something else:
        after a title (``PK Ông Chung``), or at the surname after an organisation's words
        (``Bộ trưởng Công Thương Trần Tuấn Anh``)."""
        words = [u.text for u in units[first:last + 1]]
        if not words or words[0] in self.gazetteer.surnames or words[0] in self.gazetteer.foreign_given_names:
            return first
        for k in range(len(words) - 2, 0, -1):
            if words[k].lower().rstrip(".") in self._titles:
                return first + k + 1
        for k in range(1, len(words) - 2):  # a full name of three words at least: not "Nam Từ Liêm"
            if words[k] in self.gazetteer.surnames:
                return first + k
        return first

    def _not_name_start(self, word: str, run_length: int, next_word: str = "") -> bool:
        """Words that open a capitalised run without being part of the name: titles
        (``Ông``), sentence openers (``Theo``), and places before a name (``Nga Vladimir Putin``,
        ``Nga Putin``; a Vietnamese name may start with a place's word: ``Hà Nam``)."""
        if word.lower().rstrip(".") in self._titles or word in _SENTENCE_OPENERS:
            return True
        foreign_next = bool(next_word) and not _VI_SYLLABLE.match(_toneless(next_word.lower()))
        return (run_length > 2 or foreign_next) and self.gazetteer.not_organizations.get(word) == "place"

    def _looks_like_person(self, text, run, titled: bool = False) -> bool:
        words = [u.text for u in run]
        if len(words) > 4:
            return False
        whole = " ".join(words)
        if whole in self.gazetteer.organizations or whole in self.gazetteer.not_organizations:
            return False
        if self._is_byline(text, run):
            return all(w.replace(".", "").isalpha() for w in words) and (
                len(words) > 1 or words[0][0].isupper() and len(words[0]) > 2)
        if len(words) < 2:
            # "ông Trump", "chị Thương (30 tuổi)", "Yumi, 36 tuổi": one word with a title
            # right before it or an age after it.
            word = words[0]
            return (len(word) > 1 and word.isalpha() and not word[1:].isupper()
                    and word not in self._thing_words
                    and (titled or bool(_AGE.match(text, run[0].end))))
        if words[0] in self.gazetteer.surnames:
            return all(_is_vietnamese_syllable(w) and w[0].isupper() and not w[1:].isupper() for w in words)
        if any(ch in _VI_LETTERS for w in words for ch in w.lower()):
            return False
        if not all(w.isalpha() and w[0].isupper() and (len(w) == 1 or not w[1:].isupper()) for w in words):
            return False
        if words[0] not in self.gazetteer.foreign_given_names and any(w in self._brand_words for w in words):
            return False  # "Viettel Mobile cho biết", "công cụ Windows Explorer"
        return words[0] in self.gazetteer.foreign_given_names or self._person_cue(text, run)

    def _titled(self, text, units, first, word_start, word_end) -> bool:
        """A title stands right before the name as a word of its own (``ông Trump``, not
        ``công_cụ Akregator``), in lower case or opening a sentence (``Anh`` inside a sentence
        is England)."""
        if first == 0 or text[units[first - 1].end:units[first].start] != " ":
            return False
        title = units[first - 1]
        if (title.text.lower() not in self._titles or word_start[first - 1] < title.start
                or word_end[first - 1] > title.end):
            return False
        return not title.capitalised or not text[:title.start].rstrip(" \"“(") or \
            text[:title.start].rstrip(" \"“(")[-1] in ".!?:\n"

    def _person_cue(self, text, run) -> bool:
        """A title or role before the name, a role apposition or a speech verb after it."""
        before = text[max(0, run[0].start - 40):run[0].start].lower()
        after = text[run[-1].end:run[-1].end + 60]
        titled = any(re.search(rf"(?:^|\s){re.escape(t)}\.?\s*$", before) for t in self._titles)
        roled = any(before.rstrip().endswith(r) for r in self._roles)
        apposition = bool(re.match(r"\s*,\s*(\S+(?:\s\S+)?)", after)) and any(
            after.lstrip(" ,").lower().startswith(r) for r in self._roles)
        aged = bool(_AGE.match(after))
        speech = _SPEECH.match(after)
        # "phát ngôn viên Intel, Chuck Mulloy, khẳng định": after a comma only when a role precedes.
        spoke = bool(speech) and (not speech.group("comma") or any(r in before for r in self._roles))
        return titled or roled or apposition or aged or spoke

    @staticmethod
    def _is_byline(text, run) -> bool:
        """The name ends the article and holds little else after it (``Minh Anh``, ``Hoàng Lan
        (theo ZDNet)``, ``NGUYỄN HƯNG - ICTnews``, ``Thùy Dương/Báo Tin Tức``). It opens the last
        line, or, where a feed lost the line breaks, follows the last sentence's full stop; there
        it must be a short Vietnamese name (``... ảnh hưởng. Đức Nam``, ``P.Thúy``)."""
        if text.find("\n", run[-1].end) >= 0:
            return False
        rest = text[run[-1].end:]
        if len(_UNIT.findall(rest)) > _BYLINE_MAX_UNITS or not re.fullmatch(
                r"\s*(?:[-–,/]\s*(?:\S.*)?|\(.*\)\s*|[Tt]heo\s.*)?\.?", rest):
            return False
        line_start = text.rfind("\n", 0, run[0].start) + 1
        lead = text[line_start:run[0].start]
        if not lead.strip(" -–("):
            return True
        return (len(run) <= 3 and bool(re.search(r"(?:[.!?”\"]|\./\.)\s+(?:\([^()]{1,20}\)\s*)?$", lead))
                and all(_is_vietnamese_syllable(u.text) or re.fullmatch(r"[A-ZĐ]\.\s?[A-ZĐ][^\W\d_]+", u.text)
                        for u in run))

    def _org_context_pass(self, text, units, word_start, word_end, taken, blocked, orgs, people):
        """Unknown capitalised names that their context shows to be organisations: a kind word
        right before them (``hãng Sybari``), a credit (``Theo AFP``, ``Ảnh: Reuters``), a list
        with known organisations, ``giám đốc ... của X``. Names are whole underthesea words: a
        credit never takes the start of ``Đạo_luật`` or ``Thượng_tá``."""
        starts = {u.start: k for k, u in enumerate(units)}
        person_words = {w for e in people.values() for w in e.name().split()}
        for i, unit in enumerate(units):
            if (taken[i] or blocked[i] or not unit.capitalised or word_start[i] < unit.start
                    or unit.text in _NOT_NAMES):
                continue
            if unit.text in person_words or unit.text in self.gazetteer.foreign_given_names:
                continue  # "theo Gates, Microsoft ...": the person already named; "Steve Ballmer"
            credited = unit.text not in _SENTENCE_OPENERS and bool(_CREDIT.search(text[:unit.start], max(0, unit.start - 20)))
            if credited and (re.fullmatch(r"(?:\w\.)+\w?", unit.text) or unit.text.lower() in self._titles
                             or any(text.startswith(r, unit.start) or text[unit.start:].lower().startswith(r + " ")
                                    for r in self._roles)):
                continue  # "Ảnh: C.A.": initials; "Theo Phó chủ tịch UBND ...": a role, then a person
            if not (credited or self._brand_like(unit.text)):
                continue
            before = text[max(0, unit.start - 60):unit.start]
            trigger = self._trigger(units, starts, word_start, word_end, before, unit.start)
            is_org = bool(trigger) or credited
            is_org = is_org or self._in_list_with_org(text, unit, orgs)
            is_org = is_org or (before.rstrip().lower().endswith("của") and self._after_role(before))
            if not is_org:
                continue
            end_i = i
            while (end_i + 1 < len(units) and units[end_i + 1].capitalised and not taken[end_i + 1]
                   and not blocked[end_i + 1] and units[end_i + 1].text not in _SENTENCE_OPENERS
                   and units[end_i + 1].text.lower().rstrip(".") not in self._titles
                   and not (credited and unit.text.isupper() and not units[end_i + 1].text.isupper())
                   and text[units[end_i].end:units[end_i + 1].start] == " "):
                end_i += 1
            while end_i >= i and word_end[end_i] > units[end_i].end:
                end_i -= 1  # "Ảnh: AP Phát_biểu ...": the name ends where a word ends
            if end_i < i:
                continue
            start, end = unit.start, units[end_i].end
            key = text[start:end]
            if trigger and trigger.group("kind") in _KINDS_IN_NAME:
                start = unit.start - len(before) + trigger.start("kind")  # "trường đại học Cambridge"
            self._add(orgs, "ORG", key, text, start, end)
            for k in range(i, end_i + 1):
                taken[k] = True
        # "Tên đầy đủ (VIẾT TẮT)": the acronym is an alias of the long name.
        for match in re.finditer(r"\(([A-ZĐ][\w&/\-.]{1,14})\)", text):
            other = self._entity_at(orgs, match.start(1))
            if not re.fullmatch(r"[A-ZĐ][A-Z0-9Đ&/\-.]+", match.group(1)) and other is None:
                continue  # "Sophos (Anh)": a country; only a known name may be mixed-case ("(Europol)")
            for entity in list(orgs.values()):
                if any(m.end in (match.start() - 1, match.start()) for m in entity.mentions):
                    acronym = match.group(1)
                    if other is not None and other != entity.key:
                        # "Cơ quan Cảnh sát Châu Âu (Europol)": the known acronym and the long name are one.
                        self._merge(orgs, other, entity.key)
                    self._add(orgs, "ORG", entity.key, text, match.start(1), match.end(1))
                    for later in re.finditer(rf"(?<![\w]){re.escape(acronym)}(?![\w])", text):
                        if later.start() > match.end():
                            self._add(orgs, "ORG", entity.key, text, later.start(), later.end())
                    break

    @staticmethod
    def _trigger(units, starts, word_start, word_end, before, name_start):
        """The kind word before a name, when it is a word of its own on the name's line and no
        verb, function word or other name stands between (``họp_báo``, ``báo_cáo`` are not
        ``báo``)."""
        trigger = _ORG_TRIGGERS.search(before.lower())
        if (trigger is None or "\n" in before[trigger.start():]
                or any(w in _NAME_BREAKERS for w in trigger.group("descr").split())
                or any(ch.isupper() for ch in before[trigger.start("descr"):])):
            return None
        offset = name_start - len(before)
        first = starts.get(offset + trigger.start("kind"))
        last = first + len(trigger.group("kind").split()) - 1 if first is not None else None
        if first is None or word_start[first] < units[first].start or word_end[last] > units[last].end:
            return None
        return trigger

    def _after_role(self, before: str) -> bool:
        head = before.lower().rsplit("của", 1)[0]
        return any(r in head[-40:] for r in self._roles)

    @staticmethod
    def _brand_like(word: str) -> bool:
        return (word[:1].isupper() and sum(ch.isalpha() for ch in word) > 1
                and not any(ch in _VI_LETTERS for ch in word.lower()))

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

    def _short_form_pass(self, units, taken, people):
        """Later mentions of a person by the last word of the name (``Sakoda``, ``Đức``)."""
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

    @classmethod
    def _merge(cls, entities, key, into):
        """The entity under ``key`` is the one under ``into``: its mentions move there."""
        for mention in entities.pop(key).mentions:
            cls._add_span(entities, into, mention)

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
def entities_stage(gazetteers: str = "corpora/gazetteers", model: str | None = None,
                   model_labels: Sequence[str] = ("ORG", "PER"), root: str | Path = "."):
    gazetteer = Gazetteer.load(Path(root) / gazetteers)
    tagger = CrfTagger(Path(root) / model, gazetteer) if model else None
    recognizer = EntityRecognizer(gazetteer, tagger, model_labels)

    def run(doc: Doc) -> Doc:
        doc.organizations, doc.people, doc.entity_mentions = recognizer(doc.text, doc.tokens)
        return doc

    if tagger is not None:
        run.model_name, run.model_version = "entity-crf", tagger.version  # type: ignore[attr-defined]
    return run
