"""Stage 3, percentages: every percentage expression with its value, offsets, sentence, the
phrase it measures and the direction the text gives it.

Counted: ``70%``, ``70 %``, ``12,5%`` (decimal comma), ``12.5%``, ``0,5 phần trăm``, ``hai mươi
phần trăm``, ranges (``20-30%``, ``từ 20% đến 30%``, ``từ 20 đến 30%``: two values) and
percentage points (``3 điểm phần trăm``). Not counted: fractions (``1/3``), ``gấp đôi``, numbers
without a percent sign or word.
"""
from __future__ import annotations

import re
from typing import Any

from .doc import Doc
from .registry import stage

_UNITS = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
    "nhăm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9,
}
_NUMBER_WORDS = sorted({*_UNITS, "mười", "mươi", "trăm", "linh", "lẻ", "rưỡi"}, key=len, reverse=True)
_WORD_NUMBER = r"(?:%s)(?:\s+(?:%s))*" % ("|".join(_NUMBER_WORDS), "|".join(_NUMBER_WORDS))
_DIGIT_NUMBER = r"\d+(?:[.,]\d+)*"
_NUMBER = rf"(?:{_DIGIT_NUMBER}|{_WORD_NUMBER})"
_POINTS = r"điểm\s+(?:phần\s+trăm|%)"
_PERCENT = rf"(?:%|{_POINTS}|phần\s+trăm)"
_RANGE_JOIN = r"\s*(?:[-–—]|đến|tới|tới\s+mức|đến\s+mức)\s*"

# A number followed by a percent mark, optionally preceded by a range's lower bound.
_PATTERN = re.compile(
    rf"(?<![\w/.,])(?:(?P<from>từ\s+)?(?P<low>{_NUMBER})(?P<low_mark>\s*{_PERCENT})?{_RANGE_JOIN})?"
    rf"(?P<high>{_NUMBER})\s*(?P<mark>{_PERCENT})(?![\w])",
    re.IGNORECASE,
)

_INCREASE = ("tăng trưởng", "gia tăng", "tăng thêm", "tăng lên", "tăng", "lên tới", "lên đến", "lên")
_DECREASE = ("giảm xuống", "sụt giảm", "giảm đi", "giảm", "sụt", "xuống còn", "xuống", "hạ")
_SHARE = ("chiếm tới", "chiếm khoảng", "chiếm", "trong đó")
_CLAUSE_END = re.compile(r"[,;:.!?()\n\"“”]|\s(?:và|còn(?! lại)|nhưng|trong khi|so với|nhờ|do)\s")
_VERB_BEFORE = re.compile(
    r"(?:\b(?:tăng trưởng|gia tăng|tăng|giảm|sụt giảm|chiếm|đạt|lên|xuống|còn|là|khoảng|gần|hơn|"
    r"trên|dưới|tới|đến|từ|ở mức|vào khoảng|dao động|khoảng từ)\s*)+$",
    re.IGNORECASE,
)
_MEASURE_MAX_CHARS = 120


def parse_number(text: str) -> float | None:
    """Value of a Vietnamese number written in digits or words; None if it is not one.

    >>> parse_number("12,5"), parse_number("1.000"), parse_number("0.5"), parse_number("hai mươi lăm")
    (12.5, 1000.0, 0.5, 25.0)
    """
    text = text.strip().lower()
    if text[:1].isdigit():
        return _parse_digits(text)
    return _parse_words(text.split())


def _parse_digits(text: str) -> float | None:
    if "," in text and "." in text:
        # The separator that comes last is the decimal one (1.234,5 or 1,234.5).
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1 or re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", text):
        text = text.replace(".", "")  # 1.000 is a thousand in Vietnamese
    try:
        return float(text)
    except ValueError:
        return None


def _parse_words(words: list[str]) -> float | None:
    total, current = 0, 0
    seen = False
    for index, word in enumerate(words):
        if word in _UNITS:
            value = _UNITS[word]
            if word == "năm" and index > 0 and words[index - 1] in ("mươi", "mười"):
                value = 5
            current += value
        elif word == "mười":
            current += 10
        elif word == "mươi":
            current = (current or 1) * 10
        elif word == "trăm":
            total += (current or 1) * 100
            current = 0
        elif word in ("linh", "lẻ"):
            continue
        elif word == "rưỡi":
            current += 0.5
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def _direction(before: str) -> str | None:
    tail = before[-30:].lower()
    best, best_pos = None, -1
    for direction, cues in (("increase", _INCREASE), ("decrease", _DECREASE), ("share", _SHARE)):
        for cue in cues:
            position = tail.rfind(cue)
            if position > best_pos and (position == 0 or not tail[position - 1].isalpha()):
                best, best_pos = direction, position
    return best


def _measure(text: str, sentence: tuple[int, int], start: int, end: int) -> str | None:
    """The phrase the percentage quantifies, read from its sentence.

    After the number when a noun phrase follows (``70% trong số các cuộc tấn công ...``),
    otherwise the clause's subject before the verb (``doanh thu tăng 30%``).
    """
    sent_start, sent_end = sentence
    after = text[end:sent_end]
    stop = _CLAUSE_END.search(after)
    following = after[: stop.start() if stop else len(after)].strip()
    if following and not re.match(r"(?:so với|trong năm|năm|vào|từ|lên|xuống|kể|mỗi|một|/)", following, re.I):
        return following[:_MEASURE_MAX_CHARS].strip()
    before = text[sent_start:start]
    clause_start = max((m.end() for m in re.finditer(r"[,;:(\n]|\s(?:và|còn|nhưng|trong khi)\s", before)), default=0)
    clause = before[clause_start:]
    clause = _VERB_BEFORE.sub("", clause.rstrip()).strip()
    return clause[-_MEASURE_MAX_CHARS:].strip() or None


def extract(text: str, sentences: list[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Percentages in ``text``, in order.

    Returns a list of dicts: ``value`` (float), ``text``, ``start``, ``end`` (offsets into text),
    ``unit`` ("percent" or "percentage_point"), ``sentence`` (index into ``sentences``, -1 if
    none), ``measure`` (str or None), ``direction`` ("increase", "decrease", "share" or None),
    ``range`` ("low", "high" or None: the bound of a range it is part of).
    """
    sentences = sentences or [(0, len(text))]
    found: list[dict[str, Any]] = []
    for match in _PATTERN.finditer(text):
        unit = "percentage_point" if match.group("mark").lower().startswith("điểm") else "percent"
        parts = [("high", match.start("high"), match.end())]
        # "không đến 2%" is "less than 2%", not a range from zero.
        if match.group("low") is not None and match.group("low").lower() != "không":
            low_end = match.end("low_mark") if match.group("low_mark") else match.end("low")
            parts.insert(0, ("low", match.start("low"), low_end))
        values = []
        for bound, start, end in parts:
            number = match.group(bound)
            value = parse_number(number)
            if value is None:
                break
            values.append((bound, start, end, value))
        else:
            is_range = len(values) == 2
            for bound, start, end, value in values:
                index = next((i for i, (s, e) in enumerate(sentences) if s <= start < e), -1)
                sentence = sentences[index] if index >= 0 else (0, len(text))
                found.append({
                    "value": value,
                    "text": text[start:end],
                    "start": start,
                    "end": end,
                    "unit": unit,
                    "sentence": index,
                    "measure": _measure(text, sentence, match.start(), match.end()),
                    "direction": _direction(text[sentence[0]:match.start()]),
                    "range": bound if is_range else None,
                })
    return found


@stage("percentages")
def percentages_stage():
    def run(doc: Doc) -> Doc:
        doc.percentages = extract(doc.text, doc.sentences)
        return doc

    return run
