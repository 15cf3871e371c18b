"""The one object that flows through the stages, in the manner of spaCy's ``Doc``.

Each stage reads what earlier stages wrote and adds its own layer; no stage rewrites another's
layer. Offsets are character offsets into ``Doc.text`` (the normalised text), end exclusive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Token:
    """One word as ``underthesea.word_tokenize`` returns it (syllables joined by a space)."""

    text: str
    start: int
    end: int

    @property
    def segmented(self) -> str:
        """The token as ``word_tokenize(..., format="text")`` writes it: spaces become ``_``."""
        return self.text.replace(" ", "_")


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled stretch of ``Doc.text``; ``label`` is ``ORG`` or ``PER`` for entities."""

    start: int
    end: int
    label: str
    text: str


@dataclass
class Doc:
    """An article on its way through the pipeline.

    raw: the text as received; text: the normalised text (set by the ``normalize`` stage).
    meta: the input's own fields (id, title, url, published, feed, source...).
    """

    raw: str
    meta: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    was_segmented: bool = False
    language: str = "vi"
    flags: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    percentages: list[dict[str, Any]] = field(default_factory=list)
    entity_mentions: list[Span] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    threat: dict[str, Any] = field(default_factory=dict)

    @property
    def segmented_text(self) -> str:
        """Exactly ``underthesea.word_tokenize(text, format="text")``."""
        return " ".join(token.segmented for token in self.tokens)

    def sentence_of(self, offset: int) -> int:
        """Index of the sentence holding character ``offset`` (-1 when none does)."""
        for index, (start, end) in enumerate(self.sentences):
            if start <= offset < end:
                return index
        return -1
