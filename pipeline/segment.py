"""Stage 2, segment: words exactly as ``underthesea.word_tokenize`` gives them, and sentences."""
from __future__ import annotations

import re

from underthesea import sent_tokenize, word_tokenize

from .doc import Doc, Token
from .registry import stage

_NEWLINE = re.compile(r"\n")


def tokenize(text: str) -> list[Token]:
    """Words of ``text`` with their offsets.

    ``" ".join(t.segmented for t in tokenize(text)) == word_tokenize(text, format="text")``.
    ``text`` must be normalised (:func:`pipeline.normalize.normalize`) so that underthesea's own
    normalisation changes nothing and every token is found in it.
    """
    tokens: list[Token] = []
    cursor = 0
    for word in word_tokenize(text):
        start = end = -1
        for syllable in word.split(" "):
            found = text.find(syllable, cursor)
            if found < 0:
                raise ValueError(f"token {word!r} not found in the text after offset {cursor}")
            if start < 0:
                start = found
            end = cursor = found + len(syllable)
        tokens.append(Token(word, start, end))
    return tokens


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence offsets: underthesea's ``sent_tokenize``, and every line its own sentence."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in sent_tokenize(text):
        start = text.find(sentence, cursor)
        if start < 0:  # sent_tokenize altered the text; fall back to searching its first word
            head = sentence.split(maxsplit=1)[0] if sentence.split() else sentence
            start = text.find(head, cursor)
            if start < 0:
                continue
            end = start + len(sentence)
        else:
            end = start + len(sentence)
        cursor = end
        piece_start = start
        for newline in _NEWLINE.finditer(text, start, end):
            if newline.start() > piece_start:
                spans.append((piece_start, newline.start()))
            piece_start = newline.end()
        if end > piece_start:
            spans.append((piece_start, end))
    return spans


@stage("segment")
def segment_stage():
    def run(doc: Doc) -> Doc:
        doc.tokens = tokenize(doc.text)
        doc.sentences = split_sentences(doc.text)
        return doc

    return run
