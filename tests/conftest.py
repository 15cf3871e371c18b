"""Shared fixtures. Tests that need ../shared (the evaluation set beside the checkout) are marked
``shared`` and skip cleanly where it is absent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "seed.txt"
DEV = SHARED / "eval" / "dev.jsonl"
SEED_ID = "vntc10:Test_Full:Vi tinh:VT_TT_T_ (6020).txt"


def pytest_collection_modifyitems(config, items):
    if SEED.exists() and DEV.exists():
        return
    skip = pytest.mark.skip(reason=f"{SHARED} is absent: evaluation material not available")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def nlp():
    from pipeline.language import default_pipeline

    return default_pipeline()


SAMPLE = ROOT / "corpora" / "samples" / "articles.jsonl"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A copy of the bundled sample, so that a test and the commands it runs read the same articles."""
    path = tmp_path_factory.mktemp("sample") / "articles.jsonl"
    path.write_bytes(SAMPLE.read_bytes())
    return path


@pytest.fixture(scope="module")
def articles(sample):
    return [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def records(nlp, articles):
    return [nlp.analyze(a["text"], **{k: v for k, v in a.items() if k != "text"}) for a in articles]


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_original() -> dict:
    with DEV.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["id"] == SEED_ID:
                return row
    raise LookupError(SEED_ID)
