"""Show one record to a person: an HTML page with displaCy's entity rendering, and a summary
table for the terminal."""
from __future__ import annotations

from spacy import displacy

from .schema import Record

_COLORS = {"ORG": "#7aecec", "PER": "#aa9cfc", "PERCENT": "#feca74"}


def render_html(record: Record) -> str:
    """A whole HTML page: the text with organisations, people and percentages highlighted."""
    spans = [(m.start, m.end, "ORG") for o in record.organizations for m in o.mentions]
    spans += [(m.start, m.end, "PER") for p in record.people for m in p.mentions]
    spans += [(p.start, p.end, "PERCENT") for p in record.percentages]
    spans.sort()
    ents, last_end = [], -1
    for start, end, label in spans:  # displaCy's "ent" style needs spans that do not overlap
        if start >= last_end:
            ents.append({"start": start, "end": end, "label": label})
            last_end = end
    title = record.title or record.text.split("\n", 1)[0]
    categories = ", ".join(record.threat.categories) or "not security news"
    return displacy.render(
        [{"text": record.text, "ents": ents, "title": f"{title} — {categories}"}],
        style="ent", manual=True, page=True, minify=True,
        options={"colors": _COLORS, "ents": list(_COLORS)},
    )


def summary_table(record: Record):
    from rich.table import Table

    table = Table(title=f"{record.id}: {record.title or record.text.split(chr(10), 1)[0]}", show_lines=False)
    table.add_column("kind")
    table.add_column("value")
    table.add_column("details")
    threat = record.threat
    table.add_row("threat", ", ".join(threat.categories) or "not security news",
                  f"security {threat.security_score:.2f}; " + ", ".join(
                      f"{k} {v:.2f}" for k, v in sorted(threat.scores.items(), key=lambda kv: -kv[1])[:3]))
    for org in record.organizations:
        table.add_row("organisation", org.name, f"aliases: {', '.join(org.aliases)}; {len(org.mentions)} mentions"
                      if org.aliases else f"{len(org.mentions)} mentions")
    for person in record.people:
        role = ", ".join(filter(None, [person.role, person.affiliation]))
        table.add_row("person", person.name, "; ".join(filter(None, [role, ", ".join(person.aliases)])))
    for p in record.percentages:
        table.add_row("percentage", f"{p.value:g}% ({p.text})",
                      "; ".join(filter(None, [p.direction, p.measure])))
    return table
