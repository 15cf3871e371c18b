"""Building the corpus splits from annotated parts, and the shipped corpus itself."""
import json

from pipeline.classify import load_taxonomy
from pipeline.corpus import build, load
from pipeline.language import PROJECT_ROOT


def test_paragraph_annotations_are_carried_and_checked(tmp_path):
    source = json.loads((PROJECT_ROOT / "corpora" / "parts" / "part-12.jsonl").read_text(encoding="utf-8").splitlines()[0])
    good = dict(source)
    bad = dict(source, id=source["id"] + "-short", text=source["text"] + "\nThêm một đoạn cuối.",
               paragraph_categories=source["paragraph_categories"])  # one list short for the added paragraph
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "part-01.jsonl").write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    stats = build(parts, tmp_path / "out")
    assert stats["total"]["items"] == 1 and stats["excluded_with_errors"] == 1
    errors = (tmp_path / "out" / "build_errors.txt").read_text(encoding="utf-8")
    assert "part-01.jsonl:2" in errors and "paragraph_categories has" in errors
    rows = [json.loads(line) for split in ("train", "dev", "test")
            for line in (tmp_path / "out" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["paragraph_categories"] == [sorted(c) for c in source["paragraph_categories"]]
    assert len(rows[0]["paragraph_categories"]) == sum(1 for line in rows[0]["text"].split("\n") if line.strip())


def test_shipped_corpus_has_the_agreed_composition():
    """Issue 3's floor: at least 1,000 articles and 200 feed items, at least 60 items per category,
    at least 35% not security news, and the three splits disjoint."""
    splits = load()
    assert set(splits) == {"train", "dev", "test"}
    ids = [set(splits[name]["id"]) for name in ("train", "dev", "test")]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    rows = [row for name in splits for row in splits[name]]
    kinds = [row["kind"] for row in rows]
    assert kinds.count("article") >= 1000 and kinds.count("feed") >= 200
    assert sum(not row["is_security"] for row in rows) >= 0.35 * len(rows)
    for label in load_taxonomy(PROJECT_ROOT / "configs" / "taxonomy.toml"):
        assert sum(label in row["categories"] for row in rows) >= 60, label
