"""The emulator's HTTP routes: validation (pydantic request models), auth, error mapping.

Every route calls one :class:`~.engine.Engine` method. Engine errors become
``{"detail": {"code": ..., "message": ...}}`` with their status; FastAPI's own validation errors
keep its ``422 {"detail": [...]}`` shape. OpenAPI is served at ``/docs`` and ``/redoc``.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> app = create_app(Engine(), api_keys=["emu-k"])  # doctest: +SKIP
    >>> TestClient(app).get("/health").json()  # doctest: +SKIP
    {'status': 'ok'}
"""

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .embeddings import embed_matrix
from .engine import Engine
from .errors import EmulatorError, EmulatorUnauthorized
from .faults import FaultConfig, FaultInjector, FaultMiddleware, failed_synthesis
from .quotas import QuotaConfig
from .selection import describe_embedder, embedding_model_name

__all__ = ["create_app"]

API = "/api/v1"
# The OpenAPI reply schema of a route that returns a JSONResponse (FastAPI cannot infer it).
_JSON_OBJECT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}

Token = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ScopeList = Annotated[list[Token], Field(max_length=50)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateMemoryBody(_Body):
    content: str = Field(min_length=1, max_length=20_000)
    scope: ScopeList | None = None
    category: str | None = Field(default=None, max_length=256)


class SearchBody(_Body):
    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(default=5, ge=1, le=100)
    scope: ScopeList | None = None
    response_format: Literal["raw", "interpreted", "both"] = "raw"
    rerank: bool = False
    full_scope: bool = False


class BatchBody(_Body):
    memory_ids: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        min_length=1, max_length=1000
    )


class UpdateBody(_Body):
    content: str | None = Field(default=None, min_length=1, max_length=20_000)
    scope: ScopeList | None = None


class UnlinkBody(_Body):
    memory_id_1: str = Field(min_length=1)
    memory_id_2: str = Field(min_length=1)


class EmbeddingsBody(_Body):
    input: str | list[str]
    model: str | None = None
    dimensions: int | None = Field(default=None, ge=1)
    encoding_format: Literal["float"] = "float"


def _credential(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def create_app(
    engine: Engine,
    api_keys: Iterable[str],
    *,
    injector: FaultInjector | None = None,
) -> FastAPI:
    """Build the FastAPI app serving ``engine`` to the holders of ``api_keys``."""
    keys = set(api_keys)
    faults = injector or FaultInjector()
    engine.job_hook = faults.job_hook
    app = FastAPI(
        title="Membrain emulator",
        version="1.0",
        description=(
            "A Membrain-compatible server for development, tests and demos on one machine. "
            "It is not the hosted service: move to the hosted Membrain when you outgrow it.\n\n"
            f"**Embedder:** {describe_embedder(engine.embeddings)}. Search, duplicate "
            "detection, linking and `/v1/embeddings` all use it."
        ),
    )
    app.state.engine = engine
    embedding_model = embedding_model_name(engine.embeddings)
    app.state.api_keys = keys
    app.state.injector = faults
    app.add_middleware(FaultMiddleware, injector=faults)

    @app.exception_handler(EmulatorError)
    async def _engine_error(request: Request, exc: EmulatorError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status)

    # async: FastAPI runs a sync dependency in its thread pool, one more thread hop per request
    async def tenant(request: Request) -> str:
        key = _credential(request)
        if key is None or key not in keys:
            raise EmulatorUnauthorized(
                "missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>"
            )
        return engine.tenant_id(key)

    Tenant = Annotated[str, Depends(tenant)]
    ScopeQuery = Annotated[list[Token], Query(max_length=50)]

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["health"])
    def ready() -> dict[str, str]:
        engine.count(engine.tenant_id("readiness-probe"))
        return {"status": "ready"}

    @app.post(f"{API}/memories", status_code=202, tags=["memories"])
    def create_memory(body: CreateMemoryBody, request: Request, t: Tenant) -> dict[str, Any]:
        job = engine.submit_ingest(t, body.content, body.scope, body.category)
        url = str(request.url_for("get_job", job_id=job["job_id"]))
        return {"job_id": job["job_id"], "job_status": job["status"], "status_url": url}

    @app.get(f"{API}/memories/jobs/{{job_id}}", name="get_job", tags=["memories"])
    def get_job(job_id: str, t: Tenant) -> dict[str, Any]:
        return engine.get_job(t, job_id)

    # The hot route answers with its JSON directly: a returned dict would be copied through
    # jsonable_encoder first (same bytes, for JSON-native values as these are).
    @app.post(f"{API}/memories/search", tags=["search"], responses=_JSON_OBJECT)
    def search(body: SearchBody, t: Tenant) -> JSONResponse:
        fails = body.response_format != "raw" and faults.synthesis_fails()
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

    @app.post(f"{API}/memories/batch", tags=["memories"])
    def batch(body: BatchBody, t: Tenant) -> dict[str, Any]:
        return engine.get_many(t, body.memory_ids)

    @app.get(f"{API}/memories/count", tags=["stats"])
    def count(
        t: Tenant,
        scope: ScopeQuery = [],  # noqa: B006
        category: str | None = None,
    ) -> dict[str, int]:
        return {"count": engine.count(t, scope, category)}

    @app.delete(f"{API}/memories/bulk", tags=["memories"])
    def delete_bulk(
        t: Tenant,
        memory_id: str | None = None,
        scope: ScopeQuery = [],  # noqa: B006
        category: Annotated[str | None, Query(max_length=256)] = None,
    ) -> dict[str, Any]:
        return engine.delete_bulk(t, memory_id=memory_id, scope=scope, category=category)

    @app.post(f"{API}/memories/unlink", tags=["memories"])
    def unlink(body: UnlinkBody, t: Tenant) -> dict[str, Any]:
        return engine.unlink(t, body.memory_id_1, body.memory_id_2)

    @app.get(f"{API}/memories/{{memory_id}}", tags=["memories"])
    def get_memory(memory_id: str, t: Tenant) -> dict[str, Any]:
        return engine.get(t, memory_id)

    @app.put(f"{API}/memories/{{memory_id}}", tags=["memories"])
    def update_memory(memory_id: str, body: UpdateBody, t: Tenant) -> dict[str, Any]:
        return engine.update(t, memory_id, body.content, body.scope)

    @app.delete(f"{API}/memories/{{memory_id}}", tags=["memories"])
    def delete_memory(memory_id: str, t: Tenant) -> dict[str, Any]:
        return engine.delete(t, memory_id)

    @app.get(f"{API}/stats", tags=["stats"])
    def stats(t: Tenant) -> dict[str, Any]:
        return engine.stats(t)

    @app.get(f"{API}/graph/path", tags=["graph"])
    def graph_path(from_id: str, to_id: str, t: Tenant) -> dict[str, Any]:
        return engine.graph_path(t, from_id, to_id)

    @app.get(f"{API}/graph/hubs", tags=["graph"])
    def graph_hubs(t: Tenant, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
        return engine.graph_hubs(t, limit)

    @app.get(f"{API}/graph/neighborhood", tags=["graph"])
    def graph_neighborhood(
        memory_id: str, t: Tenant, hops: Annotated[int, Query(ge=1, le=5)] = 1
    ) -> dict[str, Any]:
        return engine.graph_neighborhood(t, memory_id, hops)

    @app.get(f"{API}/graph/export", tags=["graph"])
    def graph_export(t: Tenant) -> dict[str, Any]:
        return engine.graph_export(t)

    @app.get(f"{API}/graph/traverse", tags=["graph"])
    def graph_traverse(
        start_memory_id: str,
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

    @app.post("/v1/embeddings", tags=["openai-compatible"])
    def embeddings(body: EmbeddingsBody, request: Request) -> Any:
        """OpenAI-compatible embeddings from the emulator's embedder.

        The native size is 256 dimensions with the default WordLlama embedder (384 with the
        hashing fallback); ``dimensions`` truncates and re-normalises, and a value above the
        native size is a 400. ``model`` is echoed; it does not choose the embedder.
        Authenticate with ``Authorization: Bearer <emulator key>``.
        """
        key = _credential(request)
        if key is None or key not in keys:
            return _openai_error(401, "invalid_api_key", "missing or unknown API key")
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts or any(not isinstance(t, str) for t in texts):
            return _openai_error(400, "invalid_input", "input must be a string or strings")
        native = engine.native_dimensions()
        if body.dimensions is not None and body.dimensions > native:
            return _openai_error(
                400,
                "invalid_dimensions",
                f"dimensions={body.dimensions} exceeds the native {native} dimensions",
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

    @app.get("/_emulator/faults", tags=["emulator"])
    def get_faults(t: Tenant) -> dict[str, Any]:
        return faults.snapshot()

    @app.post("/_emulator/faults", tags=["emulator"])
    def set_faults(config: FaultConfig, t: Tenant) -> dict[str, Any]:
        """Replace the fault-injection config (any tenant key; faults apply to every tenant)."""
        faults.configure(config)
        return faults.snapshot()

    @app.delete("/_emulator/faults", tags=["emulator"])
    def reset_faults(t: Tenant) -> dict[str, Any]:
        faults.configure(FaultConfig())
        return faults.snapshot()

    @app.get("/_emulator/quotas", tags=["emulator"])
    def get_quotas(t: Tenant) -> dict[str, Any]:
        return engine.quota(t).model_dump()

    @app.post("/_emulator/quotas", tags=["emulator"])
    def set_quotas(config: QuotaConfig, t: Tenant) -> dict[str, Any]:
        """Set the calling tenant's quotas (memory cap, weekly creates)."""
        engine.set_quota(t, config)
        return config.model_dump()

    return app


def _openai_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "code": code}},
        status_code=status,
    )
