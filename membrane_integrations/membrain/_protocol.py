"""Every Membrain endpoint, once: a pure builder of the request and a pure parser of the reply.

Nothing here does I/O. A builder validates its inputs (raising :class:`InvalidRequestError`
naming the field before anything is sent) and returns an :class:`Operation`: the
:class:`Request` to send plus the parser that turns a 2xx reply into a model. The sync and the
async client run the same operations through the same flows (``_flows.py``) and differ only in
how they send and sleep.

Choices the guide leaves open, made here:

* ``delete_bulk`` with no filter at all is refused: it would delete every memory of the key.
* ``search`` always sends ``query``, ``k``, ``response_format``, ``rerank`` and ``full_scope``;
  ``scope`` only when it has at least one pattern.
* ids in paths are percent-encoded as one segment (dots included), so no id can reach
  another endpoint.

Example:
    >>> op = get("m/1")
    >>> op.request.method, op.request.path
    ('GET', '/api/v1/memories/m%2F1')
    >>> search("What does the user like?", k=3).request.json
    {'query': 'What does the user like?', 'k': 3, 'response_format': 'raw', 'rerank': False, 'full_scope': False}
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..core.errors import InvalidRequestError, MalformedResponseError
from . import _validate as v
from .models import (
    BatchReadResult,
    BulkDeleteResult,
    CountResult,
    DeleteResult,
    GraphExport,
    GraphHubs,
    GraphPath,
    HealthStatus,
    IngestAccepted,
    IngestJob,
    Memory,
    Neighborhood,
    ResponseFormat,
    SearchResponse,
    Stats,
    TraverseResult,
    UnlinkResult,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_PREFIX",
    "Operation",
    "Request",
    "add",
    "count",
    "delete",
    "delete_bulk",
    "get",
    "get_job",
    "get_many",
    "graph_export",
    "graph_hubs",
    "graph_neighborhood",
    "graph_path",
    "graph_traverse",
    "health",
    "parse_json",
    "parse_model",
    "ready",
    "search",
    "stats",
    "unlink",
    "update",
]

API_PREFIX = "/api/v1"
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    """What to send. ``path`` is absolute from the host root (``/api/v1/...`` or ``/health``).

    ``idempotent`` says whether the request may be sent again after it may have reached the
    server (reads, PUT, DELETE, search). A non-idempotent request (create) is only retried
    when it provably never left the client.
    """

    method: str
    path: str
    params: Params = ()
    json: Any = None
    idempotent: bool = True


@dataclass(frozen=True)
class Operation(Generic[T]):
    """A request and the parser of its successful reply."""

    request: Request
    parse: Callable[[httpx.Response], T] = field(repr=False)


def parse_json(response: httpx.Response) -> Any:
    """The reply's JSON, or :class:`MalformedResponseError` if it is not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _not_json(response) from exc


def _not_json(response: httpx.Response) -> MalformedResponseError:
    where = f"{response.request.method} {response.request.url.path}"
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return MalformedResponseError(
        f"Membrain answered {where} with a body that is not JSON ({kind}, "
        f"{len(response.content)} bytes). The reply may be truncated or come from a proxy; "
        "retry, and check base_url.",
        status_code=response.status_code,
    )


def _wrong_shape(
    response: httpx.Response, model: type[BaseModel], exc: ValidationError
) -> MalformedResponseError:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return MalformedResponseError(
        f"Membrain's reply to {response.request.method} {response.request.url.path} "
        f"does not have the {model.__name__} shape ({exc.error_count()} problem(s), "
        f"first at {loc}: {first.get('msg', 'invalid')}). Is base_url a Membrain server?",
        status_code=response.status_code,
    )


def parse_model(model: type[M]) -> Callable[[httpx.Response], M]:
    """A parser validating the reply's JSON into ``model``.

    The bytes are validated in one pass (``model_validate_json``: no intermediate dict). When
    that pass rejects the body, the reply is read again the old way (``response.json()``, which
    also decodes UTF-16, UTF-32 and a BOM, then ``model_validate``), so every error raised, and
    its message, is the one decoding first and validating after gives.
    """
    validate_json = model.model_validate_json

    def parse(response: httpx.Response) -> M:
        try:
            return validate_json(response.content)
        except ValidationError:
            pass
        data = parse_json(response)  # raises when the body is not JSON
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _wrong_shape(response, model, exc) from exc

    return parse


def _api(path: str) -> str:
    return f"{API_PREFIX}{path}"


def _scope_params(scope: Sequence[str] | None) -> Params:
    patterns = v.check_patterns(scope)
    return tuple(("scope", p) for p in patterns or ())


# --- ingest -----------------------------------------------------------------------------------


def add(
    content: str,
    *,
    scope: Sequence[str] | None = None,
    category: str | None = None,
    add_token: str | None = None,
) -> Operation[IngestAccepted]:
    """``POST /memories``: queue an ingest job (202).

    ``add_token`` (see ``_add_token.py``) is stored after the caller's tokens and counts
    against the limit of 50.

    >>> add("x", scope=["a"], add_token="add-token").request.json["scope"]
    ['a', 'add-token']
    """
    body: dict[str, Any] = {"content": v.check_content(content)}
    tokens = v.check_tokens(scope)
    if add_token is not None:
        if len(tokens or ()) >= v.MAX_SCOPE_TOKENS:
            raise InvalidRequestError(
                f"scope has {len(tokens or ())} tokens; with the add token that resolves an "
                f"ambiguous add at most {v.MAX_SCOPE_TOKENS - 1} are allowed (or build the "
                "client with add_tokens=False)",
                field="scope",
            )
        tokens = [*(tokens or ()), add_token]
    if tokens is not None:
        body["scope"] = tokens
    checked_category = v.check_category(category)
    if checked_category is not None:
        body["category"] = checked_category
    return Operation(
        Request("POST", _api("/memories"), json=body, idempotent=False),
        parse_model(IngestAccepted),
    )


def get_job(job_id: str) -> Operation[IngestJob]:
    """``GET /memories/jobs/{job_id}``: the state of an ingest job."""
    segment = v.memory_id_segment(job_id, field="job_id")
    return Operation(Request("GET", _api(f"/memories/jobs/{segment}")), parse_model(IngestJob))


# --- search and reads -------------------------------------------------------------------------


def search(
    query: str,
    *,
    k: int = 5,
    scope: Sequence[str] | None = None,
    response_format: ResponseFormat = "raw",
    rerank: bool = False,
    full_scope: bool = False,
) -> Operation[SearchResponse]:
    """``POST /memories/search``: unified semantic search (idempotent, so retried)."""
    patterns = v.check_patterns(scope)
    if full_scope and not patterns:
        raise InvalidRequestError(
            "full_scope=True needs a non-empty scope: pass the patterns of the slice to list",
            field="full_scope",
        )
    body: dict[str, Any] = {
        "query": v.check_query(query),
        "k": v.check_k(k),
        "response_format": v.check_response_format(response_format),
        "rerank": bool(rerank),
        "full_scope": bool(full_scope),
    }
    if patterns:
        body["scope"] = patterns
    return Operation(
        Request("POST", _api("/memories/search"), json=body), parse_model(SearchResponse)
    )


def get(memory_id: str) -> Operation[Memory]:
    """``GET /memories/{id}``: one memory in full."""
    return Operation(
        Request("GET", _api(f"/memories/{v.memory_id_segment(memory_id)}")), parse_model(Memory)
    )


def get_many(memory_ids: Sequence[str]) -> Operation[BatchReadResult]:
    """``POST /memories/batch``: several memories; unknown ids come back in ``missing_ids``."""
    if isinstance(memory_ids, str) or not memory_ids:
        raise InvalidRequestError("memory_ids must be a non-empty list of ids", field="memory_ids")
    ids = [v.check_memory_id(m, field="memory_ids") for m in memory_ids]
    return Operation(
        Request("POST", _api("/memories/batch"), json={"memory_ids": ids}),
        parse_model(BatchReadResult),
    )


# --- writes -----------------------------------------------------------------------------------


def update(
    memory_id: str, *, content: str | None = None, scope: Sequence[str] | None = None
) -> Operation[Memory]:
    """``PUT /memories/{id}``: replace the content and/or the scope tokens."""
    segment = v.memory_id_segment(memory_id)
    if content is None and scope is None:
        raise InvalidRequestError("update needs content or scope (or both)", field="content")
    body: dict[str, Any] = {}
    if content is not None:
        body["content"] = v.check_content(content)
    if scope is not None:
        body["scope"] = v.check_tokens(scope)
    return Operation(Request("PUT", _api(f"/memories/{segment}"), json=body), parse_model(Memory))


def delete(memory_id: str) -> Operation[DeleteResult]:
    """``DELETE /memories/{id}``."""
    return Operation(
        Request("DELETE", _api(f"/memories/{v.memory_id_segment(memory_id)}")),
        parse_model(DeleteResult),
    )


def delete_bulk(
    *,
    memory_id: str | None = None,
    scope: Sequence[str] | None = None,
    category: str | None = None,
) -> Operation[BulkDeleteResult]:
    """``DELETE /memories/bulk``: by id (takes precedence) or by scope patterns and category."""
    params: list[tuple[str, str]] = []
    if memory_id is not None:
        params.append(("memory_id", v.check_memory_id(memory_id)))
    params.extend(_scope_params(scope))
    checked_category = v.check_category(category)
    if checked_category is not None:
        params.append(("category", checked_category))
    if not params:
        raise InvalidRequestError(
            "delete_bulk needs memory_id, scope or category; refusing to delete every memory",
            field="scope",
        )
    return Operation(
        Request("DELETE", _api("/memories/bulk"), params=tuple(params)),
        parse_model(BulkDeleteResult),
    )


def unlink(memory_id_1: str, memory_id_2: str) -> Operation[UnlinkResult]:
    """``POST /memories/unlink``: remove the link between two memories (idempotent)."""
    body = {
        "memory_id_1": v.check_memory_id(memory_id_1, field="memory_id_1"),
        "memory_id_2": v.check_memory_id(memory_id_2, field="memory_id_2"),
    }
    return Operation(
        Request("POST", _api("/memories/unlink"), json=body), parse_model(UnlinkResult)
    )


# --- stats ------------------------------------------------------------------------------------


def stats() -> Operation[Stats]:
    """``GET /stats``."""
    return Operation(Request("GET", _api("/stats")), parse_model(Stats))


def count(
    *, scope: Sequence[str] | None = None, category: str | None = None
) -> Operation[CountResult]:
    """``GET /memories/count``: how many memories match the scope patterns and category."""
    params = list(_scope_params(scope))
    checked_category = v.check_category(category)
    if checked_category is not None:
        params.append(("category", checked_category))
    return Operation(
        Request("GET", _api("/memories/count"), params=tuple(params)), parse_model(CountResult)
    )


# --- graph ------------------------------------------------------------------------------------


def graph_path(from_id: str, to_id: str) -> Operation[GraphPath]:
    """``GET /graph/path``: shortest path between two memories."""
    params = (
        ("from_id", v.check_memory_id(from_id, field="from_id")),
        ("to_id", v.check_memory_id(to_id, field="to_id")),
    )
    return Operation(Request("GET", _api("/graph/path"), params=params), parse_model(GraphPath))


def graph_hubs(limit: int = 10) -> Operation[GraphHubs]:
    """``GET /graph/hubs``: highest-degree memories (limit 1-100)."""
    checked = v.check_int_range(limit, field="limit", low=1, high=100)
    return Operation(
        Request("GET", _api("/graph/hubs"), params=(("limit", str(checked)),)),
        parse_model(GraphHubs),
    )


def graph_neighborhood(memory_id: str, hops: int = 1) -> Operation[Neighborhood]:
    """``GET /graph/neighborhood``: memories within ``hops`` (1-5) links."""
    params = (
        ("memory_id", v.check_memory_id(memory_id)),
        ("hops", str(v.check_int_range(hops, field="hops", low=1, high=5))),
    )
    return Operation(
        Request("GET", _api("/graph/neighborhood"), params=params), parse_model(Neighborhood)
    )


def graph_export() -> Operation[GraphExport]:
    """``GET /graph/export``: every node and edge."""
    return Operation(Request("GET", _api("/graph/export")), parse_model(GraphExport))


def graph_traverse(
    start_memory_id: str,
    query: str,
    *,
    max_hops: int = 2,
    edge_similarity_threshold: float = 0.7,
    scope: Sequence[str] | None = None,
) -> Operation[TraverseResult]:
    """``GET /graph/traverse``: follow links whose description is similar to ``query``."""
    params: Params = (
        ("start_memory_id", v.check_memory_id(start_memory_id, field="start_memory_id")),
        ("query", v.check_query(query)),
        ("max_hops", str(v.check_int_range(max_hops, field="max_hops", low=1, high=5))),
        (
            "edge_similarity_threshold",
            repr(
                v.check_float_range(
                    edge_similarity_threshold,
                    field="edge_similarity_threshold",
                    low=0.0,
                    high=1.0,
                )
            ),
        ),
        *_scope_params(scope),
    )
    return Operation(
        Request("GET", _api("/graph/traverse"), params=params), parse_model(TraverseResult)
    )


# --- health -----------------------------------------------------------------------------------


def health() -> Operation[HealthStatus]:
    """``GET /health`` (host root, not under ``/api/v1``)."""
    return Operation(Request("GET", "/health"), parse_model(HealthStatus))


def ready() -> Operation[HealthStatus]:
    """``GET /ready`` (host root, not under ``/api/v1``)."""
    return Operation(Request("GET", "/ready"), parse_model(HealthStatus))
