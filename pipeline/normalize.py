"""Stage 1, normalise: one canonical form of the article text.

The record's ``text`` is the output of :func:`normalize`; every offset in the record points into
it. Normalisation is idempotent: ``normalize(normalize(t).text).text == normalize(t).text``.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

# underthesea's own spelling and tone-placement tables, so that our text is already in the form
# underthesea.word_tokenize would put it in, and its tokens are substrings of our text.
from underthesea.pipeline.text_normalize.text_normalizer import character_map, token_map

_HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_JOINED_WORD = re.compile(r"[^\W_]_[^\W_]")
_WORD = re.compile(r"[^\W\d_]+")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_ODD_SPACE = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000\t\v\f"), " ")
# underthesea's models were trained on straight quotes; typographic ones change how it segments
# the words next to them (and the segmented text our users have uses straight ones).
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# underthesea.token_normalize only rewrites tokens of at most this many characters.
_TOKEN_MAP_MAX_LEN = 6


@dataclass(frozen=True)
class Normalized:
    """Normalised text and what was done to reach it.

    text: NFC text, HTML entities decoded, straight quotes, underthesea's tone placement and
        spelling, one space between words, one ``\\n`` between non-empty lines, no leading or
        trailing blanks.
    was_segmented: the input was word-segmented with underscores (``nhắn_tin``); they are now spaces.
    """

    text: str
    was_segmented: bool


def is_segmented(text: str) -> bool:
    """True when ``text`` looks word-segmented with underscores (``Hiểm_họa đe dọa nhắn_tin``).

    A handful of ``file_name``-like identifiers in raw text do not count: at least 5% of the
    whitespace-separated tokens (and at least two) must join syllables with an underscore.
    """
    joined = len(_JOINED_WORD.findall(text))
    return joined >= 2 and joined >= 0.05 * max(1, len(text.split()))


def _normalize_word(match: re.Match) -> str:
    word = match.group(0)
    if len(word) > _TOKEN_MAP_MAX_LEN:
        return word
    return token_map.get(word, word)


def normalize(text: str) -> Normalized:
    """Normalise one article's text.

    Parameters
    ----------
    text : str
        Raw article text, or text already segmented with underscores.

    Returns
    -------
    Normalized
    """
    if "&" in text:
        # Feeds double-escape now and then (``&amp;gt;``); two rounds cover that without looping.
        for _ in range(2):
            unescaped = _HTML_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
            if unescaped == text:
                break
            text = unescaped
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text).translate(_INVISIBLE).translate(_ODD_SPACE).translate(_QUOTES)
    for odd, standard in character_map.items():
        text = text.replace(odd, standard)
    segmented = is_segmented(text)
    if segmented:
        text = text.replace("_", " ")
    text = _WORD.sub(_normalize_word, text)
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return Normalized("\n".join(line for line in lines if line), segmented)


from .doc import Doc  # noqa: E402  (the pure function above has no need of it)
from .registry import stage  # noqa: E402


_VI_ONLY = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
_ENGLISH_WORDS = {"the", "and", "of", "to", "in", "is", "that", "for", "with", "on", "are", "was", "by"}
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str) -> str:
    """``vi`` for Vietnamese, ``en`` for English, ``und`` for anything else.

    Vietnamese-only letters make up several percent of the letters of any Vietnamese text;
    without them, English is recognised by its most frequent words.
    """
    letters = _LETTER.findall(text[:5000].lower())
    if not letters:
        return "und"
    if sum(ch in _VI_ONLY for ch in letters) / len(letters) >= 0.02:
        return "vi"
    words = re.findall(r"[a-z]+", text[:5000].lower())
    if words and sum(w in _ENGLISH_WORDS for w in words) / len(words) >= 0.05:
        return "en"
    return "und"


@stage("normalize")
def normalize_stage():
    def run(doc: Doc) -> Doc:
        result = normalize(doc.raw)
        if not result.text:
            raise ValueError("text is empty after normalisation")
        doc.text, doc.was_segmented = result.text, result.was_segmented
        doc.language = detect_language(doc.text)
        if doc.was_segmented:
            doc.flags.append("was_segmented")
        if doc.language != "vi":
            doc.flags.append("not_vietnamese")
        return doc

    return run
