"""The HTTP service: ``vnsec serve --host 127.0.0.1 --port 8080``.

Endpoints (OpenAPI at ``/openapi.json``, interactive docs at ``/docs``):

* ``POST /v1/analyze``: one article ``{text, id?, title?, url?, published?, feed?, source?}`` ->
  its record, exactly as ``vnsec run`` writes it;
* ``POST /v1/analyze:batch``: ``{"articles": [...]}`` (at most ``[service] max_batch``) ->
  ``{"records": n, "errors": m, "results": [{"index", "id", "record"} | {"index", "id", "error"}]}``,
  in request order; an article that cannot be analysed is an error item, never a failed batch;
* ``GET /v1/schema``: the record's JSON Schema; ``GET /healthz``: status, versions, models.

Limits (``[service]`` in ``configs/pipeline.toml``): a body over ``max_request_bytes`` gets 413
before it is parsed; a malformed body or article, or a batch over ``max_batch``, gets 422 with
FastAPI's usual ``detail`` list; text longer than ``[limits] max_chars`` gets 413 (single) or an
error item (batch). The models load once, when the app is created; analyses run one at a time
per process (``--workers N`` runs N processes).
"""
import json
import os
import threading
import tomllib
from pathlib import Path
from typing import Annotated, Any, Optional, Union

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from . import __version__
from .emit import DEFAULT_CONFIG
from .language import Pipeline
from .schema import SCHEMA_VERSION, Record, json_schema

DEFAULT_MAX_BATCH = 64
DEFAULT_MAX_REQUEST_BYTES = 2_000_000
CONFIG_ENV = "VNSEC_CONFIG"


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class ArticleIn(BaseModel):
    """One article to analyse."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "id": "vd-1", "title": "Cảnh báo lừa đảo qua tin nhắn",
        "text": "Cảnh báo lừa đảo qua tin nhắn\nCông an TP Hà Nội cho biết 30% số vụ lừa đảo ...",
        "published": "2024-03-01", "url": "https://example.invalid/tin-1"}]})

    text: str = Field(description="Article text, raw or word-segmented with underscores.")
    id: Optional[str] = Field(None, description="Kept as the record's id (default: a hash of the text).")
    title: Optional[str] = None
    url: Optional[str] = None
    published: Optional[str] = None
    feed: Optional[str] = None
    source: Union[str, dict[str, Any], None] = Field(
        None, description="Outlet name, or an object with name, url, published, feed and other fields.")

    @field_validator("*")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        if _has_lone_surrogate(value):
            raise ValueError("contains a lone surrogate (\\ud800-\\udfff): not valid Unicode text")
        return value

    def meta(self) -> dict[str, Any]:
        return self.model_dump(exclude={"text"}, exclude_none=True)


class ItemResult(BaseModel):
    index: int = Field(description="Position of the article in the request.")
    id: Optional[str] = Field(description="The record's id, or the id given when analysis failed.")
    record: Optional[Record] = None
    error: Optional[str] = None


class BatchOut(BaseModel):
    records: int
    errors: int
    results: list[ItemResult]


class Health(BaseModel):
    status: str
    version: str
    schema_version: str
    models: dict[str, str]


class _AsciiJSONResponse(JSONResponse):
    """Error bodies echo the input, which may hold text no UTF-8 encoder takes: escape it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class _BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before anyone parses it."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await self._refuse(send, 400, "Content-Length is not a number")
            if size > self.max_bytes:
                return await self._refuse(send, 413, f"request body is {size:,} bytes, over the limit of "
                                                     f"{self.max_bytes:,}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(send, 413, f"request body is over the limit of {self.max_bytes:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def service_settings(config: str | Path | None = None) -> dict[str, Any]:
    path = Path(config) if config else DEFAULT_CONFIG
    with open(path, "rb") as handle:
        return dict(tomllib.load(handle).get("service", {}))


def create_app(nlp: Optional[Pipeline] = None, *, config: Union[str, Path, None] = None,
               max_batch: int | None = None, max_request_bytes: int | None = None) -> FastAPI:
    """The service's ASGI app. Loads the pipeline (from ``config``) unless ``nlp`` is given."""
    settings = service_settings(config)
    max_batch = int(max_batch or settings.get("max_batch", DEFAULT_MAX_BATCH))
    max_request_bytes = int(max_request_bytes or settings.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES))
    nlp = nlp or Pipeline.from_config(config)
    lock = threading.Lock()

    app = FastAPI(
        title="vnsec", version=__version__,
        summary="Vietnamese security-news analysis: one schema-validated record per article.",
        description=f"Records follow the JSON Schema at `/v1/schema` (version {SCHEMA_VERSION}). "
                    f"A batch holds at most {max_batch} articles; a request body at most "
                    f"{max_request_bytes:,} bytes.",
    )
    app.state.nlp = nlp
    app.state.max_batch = max_batch
    app.state.max_request_bytes = max_request_bytes
    app.add_middleware(_BodyLimit, max_bytes=max_request_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        for item in error.errors():  # without the input, which may be megabytes long
            entry = {k: v for k, v in item.items() if k in ("type", "loc", "msg")}
            context = item.get("ctx") or {}
            if context and all(isinstance(v, (str, int, float)) for v in context.values()):
                entry["ctx"] = context
            errors.append(entry)
        return _AsciiJSONResponse({"detail": errors}, status_code=422)

    def analyse(article: ArticleIn) -> tuple[str, str]:
        """The record's id and JSON; raises on articles that cannot be analysed."""
        with lock:
            record = nlp.record(nlp(article.text, article.meta()))
            return record.id, record.model_dump_json()

    BatchIn = create_model(
        "BatchIn", __config__=ConfigDict(extra="forbid"),
        articles=(Annotated[list[ArticleIn], Field(min_length=1, max_length=max_batch,
                                                   description=f"1 to {max_batch} articles.")], ...),
    )

    @app.post("/v1/analyze", response_model=Record, tags=["analysis"],
              responses={413: {"description": "Body over the size limit, or text over `max_chars`."},
                         422: {"description": "Malformed request, or an article that cannot be analysed."}})
    def analyze(article: ArticleIn) -> Response:
        """Analyse one article; the response is its record."""
        if len(article.text) > nlp.max_chars:
            raise HTTPException(413, f"text is {len(article.text):,} characters, over the limit of {nlp.max_chars:,}")
        try:
            _, record = analyse(article)
        except Exception as error:  # noqa: BLE001 - the client's article, not the server, is at fault
            raise HTTPException(422, [{"type": "analysis_failed", "loc": ["body", "text"],
                                       "msg": f"{type(error).__name__}: {error}"}]) from None
        return Response(record, media_type="application/json")

    @app.post("/v1/analyze:batch", response_model=BatchOut, tags=["analysis"],
              responses={413: {"description": "Body over the size limit."},
                         422: {"description": f"Malformed request, or more than {max_batch} articles."}})
    def analyze_batch(batch: BatchIn) -> Response:  # type: ignore[valid-type]
        """Analyse up to `max_batch` articles; one result per article, in order."""
        parts, errors = [], 0
        for index, article in enumerate(batch.articles):
            try:
                if len(article.text) > nlp.max_chars:
                    raise ValueError(f"text is {len(article.text):,} characters, over the limit of {nlp.max_chars:,}")
                record_id, record = analyse(article)
            except Exception as error:  # noqa: BLE001 - one bad article must not fail the batch
                errors += 1
                parts.append(json.dumps({"index": index, "id": article.id, "record": None,
                                         "error": f"analysis failed: {type(error).__name__}: {error}"},
                                        ensure_ascii=False))
            else:
                parts.append(f'{{"index":{index},"id":{json.dumps(record_id, ensure_ascii=False)},'
                             f'"record":{record},"error":null}}')
        body = (f'{{"records":{len(parts) - errors},"errors":{errors},"results":[' + ",".join(parts) + "]}")
        return Response(body, media_type="application/json")

    @app.get("/v1/schema", tags=["contract"])
    def schema() -> JSONResponse:
        """The JSON Schema of a record."""
        return JSONResponse(json_schema())

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> Health:
        """Liveness and what is loaded."""
        return Health(status="ok", version=__version__, schema_version=SCHEMA_VERSION, models=nlp.models)

    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and ``vnsec serve --workers N``: config from $VNSEC_CONFIG."""
    return create_app(config=os.environ.get(CONFIG_ENV) or None)
