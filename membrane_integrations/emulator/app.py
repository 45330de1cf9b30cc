"""The emulator's HTTP routes: validation (pydantic request models), auth, documented replies.

Every route calls one :class:`~.engine.Engine` method. Every error reply has one bounded shape,
``{"detail": {"code", "message", "field"?}}`` (the OpenAI-compatible ``/v1/embeddings`` answers
OpenAI's ``{"error": {...}}``), and every status a route can answer is in the OpenAPI schema
with its body (see :mod:`~.guard`). Bodies are capped (``413``). Fault injection
(``/_emulator/faults`` and the middleware) exists only when the app is built with
``fault_injection=True``. OpenAPI pages are served offline at ``/docs`` and ``/redoc``.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> app = create_app(Engine(), api_keys=["emu-k"])  # doctest: +SKIP
    >>> TestClient(app).get("/health").json()  # doctest: +SKIP
    {'status': 'ok'}
"""

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .embeddings import embed_matrix
from .engine import Engine
from .errors import EmulatorUnauthorized
from .faults import FaultConfig, FaultInjector, FaultMiddleware, failed_synthesis
from .guard import (
    ErrorReply,
    Limits,
    OpenAIErrorReply,
    RequestGuard,
    error_body,
    install_error_handlers,
)
from .json_types import JsonInt, PositiveJsonInt
from .quotas import QuotaConfig
from .selection import describe_embedder, embedding_model_name

__all__ = ["create_app"]

API = "/api/v1"
# The OpenAPI reply schema of a route that returns a JSONResponse (FastAPI cannot infer it).
_JSON_OBJECT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}
_WHY = {
    400: "Refused by a documented rule: an invalid scope pattern, a missing filter, bad JSON, "
    "text with an unpaired surrogate",
    401: "Missing or unknown API key",
    403: "TIER_MEMORY_CAP_REACHED: the memory cap is reached",
    404: "No such memory or job for this key",
    413: "The request body (or an embeddings input) is larger than the emulator accepts",
    422: "A field breaks the schema (type, length, range)",
    429: "TIER_WEEKLY_QUOTA_REACHED: the weekly create quota is used up",
    500: "Injected fault (fault injection is on)",
    503: "BUSY: the scope filter could not settle while this key's memories kept changing; retry",
}


def _errors(*statuses: int, model: type[BaseModel] = ErrorReply) -> dict[int | str, Any]:
    """The documented error replies of a route."""
    return {s: {"model": model, "description": _WHY[s]} for s in statuses}


Id = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ScopeList = Annotated[list[Token], Field(max_length=50)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True)


class CreateMemoryBody(_Body):
    content: str = Field(min_length=1, max_length=20_000)
    scope: ScopeList | None = None
    category: str | None = Field(default=None, max_length=256)


class SearchBody(_Body):
    query: str = Field(min_length=1, max_length=10_000)
    k: JsonInt = Field(default=5, ge=1, le=100)
    scope: ScopeList | None = None
    response_format: Literal["raw", "interpreted", "both"] = "raw"
    rerank: bool = False
    full_scope: bool = False


class BatchBody(_Body):
    memory_ids: list[Id] = Field(min_length=1, max_length=1000)


class UpdateBody(_Body):
    content: str | None = Field(default=None, min_length=1, max_length=20_000)
    scope: ScopeList | None = None


class UnlinkBody(_Body):
    memory_id_1: Id
    memory_id_2: Id


class EmbeddingsBody(_Body):
    input: str | list[str]
    model: str | None = Field(default=None, max_length=256)
    dimensions: PositiveJsonInt | None = None
    encoding_format: Literal["float"] = "float"


_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="the emulator key")
_BEARER = HTTPBearer(auto_error=False, description="the emulator key as a bearer token")


async def _offered(
    api_key: Annotated[str | None, Security(_API_KEY)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> str | None:
    """The credential a request offers: ``X-API-Key`` first, else ``Authorization: Bearer``."""
    if api_key and api_key.strip():
        return api_key.strip()
    if bearer is not None and bearer.credentials.strip():
        return bearer.credentials.strip()
    return None


def create_app(
    engine: Engine,
    api_keys: Iterable[str],
    *,
    injector: FaultInjector | None = None,
    fault_injection: bool = False,
    limits: Limits | None = None,
) -> FastAPI:
    """Build the FastAPI app serving ``engine`` to the holders of ``api_keys``.

    ``fault_injection``: serve ``/_emulator/faults`` and apply ``injector``'s faults; without it
    neither exists (404), whatever a tenant sends. ``limits``: body and embeddings-input caps.
    """
    keys = set(api_keys)
    limits = limits or Limits()
    faults = (injector or FaultInjector()) if fault_injection else None
    engine.job_hook = faults.job_hook if faults else None
    app = FastAPIOffline(
        title="Membrain emulator",
        version="1.0",
        description=(
            "A Membrain-compatible server for development, tests and demos on one machine. "
            "It is not the hosted service: move to the hosted Membrain when you outgrow it.\n\n"
            f"**Embedder:** {describe_embedder(engine.embeddings)}. Search, duplicate "
            "detection, linking and `/v1/embeddings` all use it.\n\n"
            '**Errors:** `{"detail": {"code", "message", "field"}}` '
            '(`/v1/embeddings`: OpenAI\'s `{"error": {...}}`). **Limits:** bodies up to '
            f"{limits.max_body_bytes:,} bytes (413 beyond). Scope patterns run on RE2 (linear "
            "time); a pattern outside the accepted subset is a 400 naming it."
            + ("\n\n**Fault injection is on** (`/_emulator/faults`)." if faults else "")
        ),
    )
    app.state.engine = engine
    embedding_model = embedding_model_name(engine.embeddings)
    app.state.api_keys = keys
    app.state.injector = faults
    app.state.limits = limits
    if faults is not None:
        app.add_middleware(FaultMiddleware, injector=faults)
    app.add_middleware(RequestGuard, limits=limits)  # outermost: before any fault or route
    install_error_handlers(app)

    # async: FastAPI runs a sync dependency in its thread pool, one more thread hop per request
    async def tenant(offered: Annotated[str | None, Depends(_offered)]) -> str:
        if offered is None or offered not in keys:
            raise EmulatorUnauthorized(
                "missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>"
            )
        return engine.tenant_id(offered)

    Tenant = Annotated[str, Depends(tenant)]
    ScopeQuery = Annotated[list[Token], Query(max_length=50)]
    IdQuery = Annotated[str, Query(min_length=1, max_length=256)]
    IdPath = Annotated[str, Path(min_length=1, max_length=256)]
    # Injected faults answer 500, 429 or an HTML 503 on /api/v1 and /v1 (only when switched on).
    injected: dict[int | str, Any] = (
        {
            500: {"model": ErrorReply, "description": _WHY[500]},
            429: {
                "model": ErrorReply,
                "description": "Injected fault, or TIER_WEEKLY_QUOTA_REACHED",
                "headers": {"Retry-After": {"schema": {"type": "string"}}},
            },
            503: {
                "description": "Injected fault: a proxy's HTML page, or BUSY",
                "content": {
                    "text/html": {"schema": {"type": "string"}},
                    "application/json": {"schema": ErrorReply.model_json_schema()},
                },
            },
        }
        if faults
        else {}
    )

    def doc(*statuses: int, extra: dict[int | str, Any] | None = None) -> dict[int | str, Any]:
        """A route's documented replies: its errors, 413 (any body) and injected faults."""
        return {**_errors(*statuses, 413), **(extra or {}), **injected}

    @app.get("/health", tags=["health"], responses=_errors(413))
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["health"], responses=_errors(413))
    def ready() -> dict[str, str]:
        engine.count(engine.tenant_id("readiness-probe"))
        return {"status": "ready"}

    @app.post(
        f"{API}/memories",
        status_code=202,
        tags=["memories"],
        responses=doc(400, 401, 403, 422, 429),
    )
    def create_memory(body: CreateMemoryBody, request: Request, t: Tenant) -> dict[str, Any]:
        job = engine.submit_ingest(t, body.content, body.scope, body.category)
        url = str(request.url_for("get_job", job_id=job["job_id"]))
        return {"job_id": job["job_id"], "job_status": job["status"], "status_url": url}

    @app.get(
        f"{API}/memories/jobs/{{job_id}}",
        name="get_job",
        tags=["memories"],
        responses=doc(401, 404, 422),
    )
    def get_job(job_id: IdPath, t: Tenant) -> dict[str, Any]:
        return engine.get_job(t, job_id)

    # The hot route answers with its JSON directly: a returned dict would be copied through
    # jsonable_encoder first (same bytes, for JSON-native values as these are).
    @app.post(
        f"{API}/memories/search",
        tags=["search"],
        responses={**_JSON_OBJECT, **doc(400, 401, 422, 503)},
    )
    def search(body: SearchBody, t: Tenant) -> JSONResponse:
        fails = body.response_format != "raw" and faults is not None and faults.synthesis_fails()
        reply = engine.search(
            t,
            body.query,
            k=body.k,
            scope=body.scope,
            response_format=body.response_format,
            rerank=body.rerank,
            full_scope=body.full_scope,
        )
        return JSONResponse(failed_synthesis(reply) if fails else reply)

    @app.post(f"{API}/memories/batch", tags=["memories"], responses=doc(400, 401, 422))
    def batch(body: BatchBody, t: Tenant) -> dict[str, Any]:
        return engine.get_many(t, body.memory_ids)

    @app.get(f"{API}/memories/count", tags=["stats"], responses=doc(400, 401, 422, 503))
    def count(
        t: Tenant,
        scope: ScopeQuery = [],  # noqa: B006
        category: Annotated[str | None, Query(max_length=256)] = None,
    ) -> dict[str, int]:
        return {"count": engine.count(t, scope, category)}

    @app.delete(f"{API}/memories/bulk", tags=["memories"], responses=doc(400, 401, 422, 503))
    def delete_bulk(
        t: Tenant,
        memory_id: Annotated[str | None, Query(max_length=256)] = None,
        scope: ScopeQuery = [],  # noqa: B006
        category: Annotated[str | None, Query(max_length=256)] = None,
    ) -> dict[str, Any]:
        return engine.delete_bulk(t, memory_id=memory_id, scope=scope, category=category)

    @app.post(f"{API}/memories/unlink", tags=["memories"], responses=doc(400, 401, 404, 422))
    def unlink(body: UnlinkBody, t: Tenant) -> dict[str, Any]:
        return engine.unlink(t, body.memory_id_1, body.memory_id_2)

    @app.get(f"{API}/memories/{{memory_id}}", tags=["memories"], responses=doc(401, 404, 422))
    def get_memory(memory_id: IdPath, t: Tenant) -> dict[str, Any]:
        return engine.get(t, memory_id)

    @app.put(
        f"{API}/memories/{{memory_id}}",
        tags=["memories"],
        responses=doc(400, 401, 404, 422, 503),
    )
    def update_memory(memory_id: IdPath, body: UpdateBody, t: Tenant) -> dict[str, Any]:
        return engine.update(t, memory_id, body.content, body.scope)

    @app.delete(f"{API}/memories/{{memory_id}}", tags=["memories"], responses=doc(401, 404, 422))
    def delete_memory(memory_id: IdPath, t: Tenant) -> dict[str, Any]:
        return engine.delete(t, memory_id)

    @app.get(f"{API}/stats", tags=["stats"], responses=doc(401))
    def stats(t: Tenant) -> dict[str, Any]:
        return engine.stats(t)

    @app.get(f"{API}/graph/path", tags=["graph"], responses=doc(401, 404, 422))
    def graph_path(from_id: IdQuery, to_id: IdQuery, t: Tenant) -> dict[str, Any]:
        return engine.graph_path(t, from_id, to_id)

    @app.get(f"{API}/graph/hubs", tags=["graph"], responses=doc(401, 422))
    def graph_hubs(t: Tenant, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
        return engine.graph_hubs(t, limit)

    @app.get(f"{API}/graph/neighborhood", tags=["graph"], responses=doc(401, 404, 422))
    def graph_neighborhood(
        memory_id: IdQuery, t: Tenant, hops: Annotated[int, Query(ge=1, le=5)] = 1
    ) -> dict[str, Any]:
        return engine.graph_neighborhood(t, memory_id, hops)

    @app.get(f"{API}/graph/export", tags=["graph"], responses=doc(401))
    def graph_export(t: Tenant) -> dict[str, Any]:
        return engine.graph_export(t)

    @app.get(f"{API}/graph/traverse", tags=["graph"], responses=doc(400, 401, 404, 422, 503))
    def graph_traverse(
        start_memory_id: IdQuery,
        query: Annotated[str, Query(min_length=1, max_length=10_000)],
        t: Tenant,
        max_hops: Annotated[int, Query(ge=1, le=5)] = 2,
        edge_similarity_threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.7,
        scope: ScopeQuery = [],  # noqa: B006
    ) -> dict[str, Any]:
        return engine.graph_traverse(
            t,
            start_memory_id,
            query,
            max_hops=max_hops,
            edge_similarity_threshold=edge_similarity_threshold,
            scope=scope,
        )

    @app.post(
        "/v1/embeddings",
        tags=["openai-compatible"],
        responses={**_errors(400, 401, 413, 422, model=OpenAIErrorReply), **injected},
    )
    def embeddings(body: EmbeddingsBody, offered: Annotated[str | None, Depends(_offered)]) -> Any:
        """OpenAI-compatible embeddings from the emulator's embedder.

        The native size is 256 dimensions with the default WordLlama embedder (384 with the
        hashing fallback); ``dimensions`` truncates and re-normalises, and a value above the
        native size is a 400. ``model`` is echoed; it does not choose the embedder.
        Authenticate with ``Authorization: Bearer <emulator key>``. Inputs are capped (count,
        length of each, total length): 413 beyond.
        """
        path = "/v1/embeddings"
        if offered is None or offered not in keys:
            return _openai_error(path, 401, "invalid_api_key", "missing or unknown API key")
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts:
            return _openai_error(path, 400, "invalid_input", "input must be a string or strings")
        too_big = _embedding_inputs_too_big(texts, limits)
        if too_big:
            return _openai_error(path, 413, "input_too_large", too_big)
        native = engine.native_dimensions()
        if body.dimensions is not None and body.dimensions > native:
            return _openai_error(
                path,
                400,
                "invalid_dimensions",
                f"dimensions={body.dimensions} exceeds the native {native} dimensions",
                field="dimensions",
            )
        matrix = embed_matrix(engine.embeddings, texts)
        if body.dimensions is not None:
            matrix = matrix[:, : body.dimensions]
            norms = (matrix**2).sum(axis=1, keepdims=True) ** 0.5
            norms[norms == 0] = 1.0
            matrix = matrix / norms
        tokens = sum(len(t.split()) for t in texts)
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "embedding": row.tolist(), "index": i}
                for i, row in enumerate(matrix)
            ],
            "model": body.model or embedding_model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    if faults is not None:

        @app.get("/_emulator/faults", tags=["emulator"], responses=_errors(401, 413))
        def get_faults(t: Tenant) -> dict[str, Any]:
            return faults.snapshot()

        @app.post("/_emulator/faults", tags=["emulator"], responses=_errors(400, 401, 413, 422))
        def set_faults(config: FaultConfig, t: Tenant) -> dict[str, Any]:
            """Replace the fault-injection config (faults apply to every tenant; the route
            exists only because the emulator was started with fault injection on)."""
            faults.configure(config)
            return faults.snapshot()

        @app.delete("/_emulator/faults", tags=["emulator"], responses=_errors(401, 413))
        def reset_faults(t: Tenant) -> dict[str, Any]:
            faults.configure(FaultConfig())
            return faults.snapshot()

    @app.get("/_emulator/quotas", tags=["emulator"], responses=_errors(401, 413))
    def get_quotas(t: Tenant) -> dict[str, Any]:
        return engine.quota(t).model_dump()

    @app.post("/_emulator/quotas", tags=["emulator"], responses=_errors(400, 401, 413, 422))
    def set_quotas(config: QuotaConfig, t: Tenant) -> dict[str, Any]:
        """Set the calling tenant's quotas (memory cap, weekly creates)."""
        engine.set_quota(t, config)
        return config.model_dump()

    return app


def _embedding_inputs_too_big(texts: list[str], limits: Limits) -> str | None:
    if len(texts) > limits.max_embedding_inputs:
        return f"{len(texts)} inputs; at most {limits.max_embedding_inputs} per request"
    longest = max(len(t) for t in texts)
    if longest > limits.max_embedding_input_chars:
        return (
            f"an input of {longest:,} characters; at most {limits.max_embedding_input_chars:,} each"
        )
    total = sum(len(t) for t in texts)
    if total > limits.max_embedding_total_chars:
        return (
            f"{total:,} characters in all; at most {limits.max_embedding_total_chars:,} per request"
        )
    return None


def _openai_error(
    path: str, status: int, code: str, message: str, *, field: str | None = None
) -> JSONResponse:
    return JSONResponse(error_body(path, code, message, field=field), status_code=status)
