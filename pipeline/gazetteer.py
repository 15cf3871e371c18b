"""Gazetteers of ``corpora/gazetteers/``: known organisations, things that are not
organisations, and the lexicon of Vietnamese personal names, titles and role words."""
from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {key: unicodedata.normalize("NFC", (value or "").strip()) for key, value in row.items()}
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


@dataclass
class Gazetteer:
    """Surface forms with what they are.

    organizations: form -> (canonical name, type); every alias maps to its entry's name.
    not_organizations: forms that look like names but are products, malware, places or generic.
    surnames, middle_names, titles, role_words, foreign_given_names: the person lexicon, by type.
    """

    organizations: dict[str, tuple[str, str]] = field(default_factory=dict)
    not_organizations: dict[str, str] = field(default_factory=dict)
    surnames: set[str] = field(default_factory=set)
    middle_names: set[str] = field(default_factory=set)
    titles: set[str] = field(default_factory=set)
    role_words: set[str] = field(default_factory=set)
    foreign_given_names: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: str | Path) -> "Gazetteer":
        folder = Path(folder)
        gazetteer = cls()
        for row in _rows(folder / "organizations.tsv"):
            name = row["name"]
            for form in [name, *filter(None, row.get("aliases", "").split("|"))]:
                gazetteer.organizations.setdefault(form.strip(), (name, row.get("type", "")))
        for row in _rows(folder / "not_organizations.tsv"):
            gazetteer.not_organizations[row["name"]] = row.get("type", "")
        by_type = {"surname_vn": gazetteer.surnames, "middle_vn": gazetteer.middle_names,
                   "title": gazetteer.titles, "role_word": gazetteer.role_words,
                   "given_foreign": gazetteer.foreign_given_names}
        for row in _rows(folder / "person_lexicon.tsv"):
            target = by_type.get(row.get("type", ""))
            if target is not None and row.get("form"):
                target.add(row["form"])
        return gazetteer
