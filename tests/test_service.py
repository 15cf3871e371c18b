"""The HTTP service over real HTTP: uvicorn on a free loopback port, called with httpx.

Endpoints, limits (413/422), per-item errors in batches, and property-based malformed requests
(hypothesis) that must never get a 5xx. One test starts `vnsec serve` itself in a subprocess.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import __version__
from pipeline.language import PROJECT_ROOT
from pipeline.schema import json_schema
from pipeline.service import create_app

SAMPLE = PROJECT_ROOT / "corpora" / "samples" / "articles.jsonl"
ARTICLES = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
MAX_BATCH = 4
MAX_BYTES = 2_500_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(nlp):
    app = create_app(nlp, max_batch=MAX_BATCH, max_request_bytes=MAX_BYTES)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def test_health_schema_and_openapi(client, nlp):
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": __version__, "schema_version": json_schema()["properties"]
                             ["schema_version"]["const"], "models": nlp.models}
    assert client.get("/v1/schema").json() == json.loads(json.dumps(json_schema()))
    spec = client.get("/openapi.json").json()
    assert {"/v1/analyze", "/v1/analyze:batch", "/v1/schema", "/healthz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_analyze_returns_the_record_the_cli_writes(client, nlp):
    article = ARTICLES[1]
    response = client.post("/v1/analyze", json=article)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    expected = nlp.analyze(article["text"], **{k: v for k, v in article.items() if k != "text"})
    assert response.text == expected.model_dump_json()
    record = response.json()
    assert record["id"] == article["id"] and record["source"]["published"] == article["published"]
    assert record["title"] == expected.title and record["tokens"]


def test_batch_keeps_order_and_turns_bad_articles_into_items(client):
    articles = [ARTICLES[0], {"id": "blank", "text": " \n\t "}, {"id": "too-long", "text": "a" * 1_000_001},
                {"text": "Tin tặc tấn công website của một trường đại học ở Đà Nẵng, 30% dữ liệu bị xóa."}]
    response = client.post("/v1/analyze:batch", json={"articles": articles})
    assert response.status_code == 200
    body = response.json()
    assert (body["records"], body["errors"]) == (2, 2)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert body["results"][0]["record"]["id"] == ARTICLES[0]["id"] and body["results"][0]["error"] is None
    assert body["results"][1] == {"index": 1, "id": "blank", "record": None,
                                  "error": "analysis failed: ValueError: text is empty after normalisation"}
    assert body["results"][2]["error"] == ("analysis failed: ValueError: text is 1,000,001 characters, "
                                           "over the limit of 1,000,000")
    assert body["results"][3]["id"].startswith("sha256:")


def test_limits_give_413_and_422(client):
    too_many = {"articles": [{"text": "Virus máy tính lây lan."}] * (MAX_BATCH + 1)}
    response = client.post("/v1/analyze:batch", json=too_many)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "articles"] and "at most 4" in response.json()["detail"][0]["msg"]
    assert client.post("/v1/analyze:batch", json={"articles": []}).status_code == 422

    response = client.post("/v1/analyze", json={"text": "Mã độc " * 1_000_000})
    assert response.status_code == 413 and "over the limit of 2,500,000" in response.json()["detail"]
    response = client.post("/v1/analyze", json={"text": "a" * 1_000_001})
    assert response.status_code == 413 and "1,000,001 characters" in response.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(30):
            yield b" " * 100_000

    response = client.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413

    response = client.post("/v1/analyze", json={"text": "x", "surprise": 1})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "surprise"]
    response = client.post("/v1/analyze", json={"title": "no text"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "text"]
    response = client.post("/v1/analyze", json={"text": "   "})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "analysis_failed"
    response = client.post("/v1/analyze", content=b'{"text": "\\ud800 lone"}', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "surrogate" in response.json()["detail"][0]["msg"]
    response = client.post("/v1/analyze", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


JSON = {"content-type": "application/json"}
# Python's JSON reader (and so FastAPI's) takes NaN and Infinity: they are sent as such.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
article_like = st.fixed_dictionaries(
    {"text": st.one_of(st.text(max_size=120), json_values)},
    optional={"id": json_values, "title": json_values, "url": json_values, "published": json_values,
              "feed": json_values, "source": json_values, "extra": json_values},
)
# Well-formed articles with odd text: what reaches the analysis.
VI_WORDS = ["Tin_tặc", "tấn", "công", "mã độc", "30%", "12,5 %", "hai mươi phần trăm", "Công an", "TP.HCM", "Bkav",
            "lừa đảo", "Nguyễn Văn A", "giám đốc", "&amp;", "&#7871;", "\u200b", "\n", "\t", "\x00", "_", "%", "—"]
texts = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(VI_WORDS), max_size=40).map(" ".join))
valid_article = st.fixed_dictionaries(
    {"text": texts},
    optional={"id": st.text(max_size=20), "title": st.text(max_size=40), "published": st.text(max_size=25),
              "url": st.text(max_size=30), "source": st.text(max_size=20) | st.dictionaries(st.text(max_size=8),
                                                                                           json_values, max_size=3)},
)
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=st.one_of(valid_article, valid_article, article_like, json_values))
def test_malformed_single_requests_never_get_5xx(client, body):
    response = client.post("/v1/analyze", content=json.dumps(body), headers=JSON)
    assert response.status_code in (200, 413, 422), response.text
    response.json()


@settings(FUZZ, max_examples=30)
@given(body=st.one_of(json_values, st.fixed_dictionaries({"articles": st.lists(st.one_of(valid_article, article_like, json_values),
                                                                                max_size=MAX_BATCH + 1)})))
def test_malformed_batches_never_get_5xx(client, body):
    response = client.post("/v1/analyze:batch", content=json.dumps(body), headers=JSON)
    assert response.status_code in (200, 413, 422), response.text
    if response.status_code == 200:
        results = response.json()["results"]
        assert len(results) == len(body["articles"])
        assert all((r["record"] is None) != (r["error"] is None) for r in results)


@FUZZ
@given(raw=st.binary(max_size=400), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json", None]),
    path=st.sampled_from(["/v1/analyze", "/v1/analyze:batch", "/v1/schema", "/healthz", "/v1/nope"]))
def test_arbitrary_bytes_never_get_5xx(client, raw, content_type, path):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(path, content=raw, headers=headers)
    assert response.status_code < 500, response.text


def test_vnsec_serve_starts_a_working_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--log-level", "warning"], cwd=PROJECT_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "vnsec serve did not answer in time"
            time.sleep(0.2)
        response = httpx.post(f"http://127.0.0.1:{port}/v1/analyze:batch", timeout=60,
                              json={"articles": ARTICLES[:2]})
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [a["id"] for a in ARTICLES[:2]]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
