"""What the emulator does with input it will not serve: limits, the one error shape, 4xx not 500.

* :class:`Limits`: the request body cap (``413`` beyond it) and the ``/v1/embeddings`` input caps.
* :class:`RequestGuard`: ASGI middleware that reads each body up to the cap before any route
  runs (a larger one is refused without reading on) and refuses a JSON body holding an unpaired
  surrogate escape (``"\\ud800"``), which no UTF-8 text can carry.
* :func:`install_error_handlers`: every error reply has one shape,
  ``{"detail": {"code", "message", "field"?}}`` (``{"error": {"code", "message", "type",
  "param"}}`` under the OpenAI-compatible ``/v1/``), with a bounded message that never echoes
  more than a short excerpt of the input: engine errors, validation errors (``422``), bad JSON
  (``400``), unknown paths (``404``), wrong methods (``405``, with ``Allow``), and anything
  unexpected (``500``, no detail).

Example:
    >>> Limits().max_body_bytes >= 50 * 20_000 * 6
    True
    >>> error_body("/api/v1/stats", "NOT_FOUND", "x" * 500)["detail"]["message"][-3:]
    '...'
    >>> error_body("/v1/embeddings", "invalid_input", "bad", field="input")["error"]["param"]
    'input'
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.routing import Match

from .errors import EmulatorError

__all__ = [
    "ErrorDetail",
    "ErrorReply",
    "Limits",
    "OpenAIError",
    "OpenAIErrorReply",
    "RequestGuard",
    "error_body",
    "install_error_handlers",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Longest message and longest piece of input (a field name, a value) an error reply carries.
_MESSAGE_MAX = 300
_EXCERPT_MAX = 40
_OPENAI_PREFIX = "/v1/"
# A JSON escape of a UTF-16 surrogate; only a body holding one is parsed here.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


@dataclass(frozen=True)
class Limits:
    """Size limits of the emulator (every one configurable).

    Args:
        max_body_bytes: the largest request body (default 8 MiB: 50 memories of 20,000
            characters at 6 bytes each, the ``\\uXXXX`` escape of a character, is 6 MB).
        max_embedding_inputs: the most texts in one ``/v1/embeddings`` request.
        max_embedding_input_chars: the longest text (about 8,192 tokens).
        max_embedding_total_chars: all texts of one request together.
    """

    max_body_bytes: int = 8 << 20
    max_embedding_inputs: int = 2048
    max_embedding_input_chars: int = 32_768
    max_embedding_total_chars: int = 1_000_000


class ErrorDetail(BaseModel):
    """What went wrong: a machine code, a message, and the input field when one is at fault."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: str | None = None


class ErrorReply(BaseModel):
    """Every error reply of the Membrain routes."""

    detail: ErrorDetail


class OpenAIError(BaseModel):
    """An OpenAI-style error (``/v1/embeddings``)."""

    code: str
    message: str
    type: str = "invalid_request_error"
    param: str | None = None


class OpenAIErrorReply(BaseModel):
    """Every error reply of the OpenAI-compatible routes."""

    error: OpenAIError


def _clean(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with anything UTF-8 cannot carry replaced."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.encode("utf-8", "replace").decode("utf-8")


def error_body(
    path: str, code: str, message: str, *, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The error reply for a request to ``path`` (bounded; see the module doc)."""
    message = _clean(message, _MESSAGE_MAX)
    field = _clean(field, _EXCERPT_MAX) if field is not None else None
    if path.startswith(_OPENAI_PREFIX):
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "code": code,
                "param": field,
            }
        }
    detail: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    for key, value in extra.items():
        detail[key] = _clean(value, _MESSAGE_MAX) if isinstance(value, str) else value
    return {"detail": detail}


def _reply(
    request_path: str,
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = error_body(request_path, code, message, field=field, **extra)
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """``("body", "scope", 0)`` -> ``"scope.0"`` (the first element says where: body, query...)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(_clean(p, _EXCERPT_MAX) for p in parts) or None


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    path = request.url.path
    if any(e.get("type") == "json_invalid" for e in errors):
        return _reply(path, 400, "INVALID_JSON", "the body is not valid JSON", field="body")
    field = _loc(errors[0].get("loc", ())) if errors else None
    said = [
        f"{_loc(e.get('loc', ())) or 'request'}: {_clean(str(e.get('msg', 'invalid')), 120)}"
        for e in errors[:3]
    ]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    code = "invalid_request" if path.startswith(_OPENAI_PREFIX) else "VALIDATION_ERROR"
    return _reply(path, 422, code, "; ".join(said) + more, field=field)


def install_error_handlers(app: FastAPI) -> None:
    """Give every error reply of ``app`` the one bounded shape (see the module doc)."""

    @app.exception_handler(EmulatorError)
    async def _engine_error(request: Request, exc: EmulatorError) -> JSONResponse:
        extra = {k: v for k, v in exc.extra.items() if k != "field"}
        field = exc.extra.get("field")
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return _reply(
            request.url.path,
            exc.status,
            exc.code,
            exc.message,
            field=field,
            headers=headers,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation(request, exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        code = _HTTP_CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL")
        message = exc.detail if isinstance(exc.detail, str) else code.lower().replace("_", " ")
        headers = dict(exc.headers or {})
        if status == 400 and "parsing the body" in message:
            code, message = "INVALID_JSON", "the body is not valid JSON"
        if status == 405:
            # Starlette names the methods of the first route on the path; list them all
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
            message = f"{request.method} is not allowed here; use {headers['Allow']}"
        return _reply(request.url.path, status, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _reply(request.url.path, 500, "INTERNAL", "internal error in the emulator")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves on the request's path."""
    matching = [r for r in app.router.routes if r.matches(request.scope)[0] != Match.NONE]
    # ``/memories/search`` also fits ``/memories/{memory_id}``: the literal path is the resource
    literal = [r for r in matching if getattr(r, "path", None) == request.url.path]
    methods: set[str] = set()
    for route in literal or matching:
        methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    return False


class RequestGuard:
    """ASGI middleware: the body cap (``413``) and the unpaired-surrogate check (``400``)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        cap = self.limits.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(path, send, 413, "PAYLOAD_TOO_LARGE", _too_large(declared, cap))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending the whole body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await self._refuse(path, send, 413, "PAYLOAD_TOO_LARGE", _too_large(size, cap))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _SURROGATE_ESCAPE.search(body) and _json_has_lone_surrogate(body):
            await self._refuse(
                path,
                send,
                400,
                "INVALID_TEXT",
                "a string holds an unpaired UTF-16 surrogate escape (such as \\ud800); "
                "send valid Unicode text",
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(path: str, send: Send, status: int, code: str, message: str) -> None:
        payload = json.dumps(error_body(path, code, message, field="body")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload, "more_body": False})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return None


def _too_large(size: int, cap: int) -> str:
    return f"the request body is {size:,} bytes or more; at most {cap:,} are accepted"


def _json_has_lone_surrogate(body: bytes) -> bool:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the route's own parsing answers it
    return _has_lone_surrogate(parsed)
