"""Map Membrain HTTP replies and httpx failures into :mod:`membrane_integrations.core.errors`.

The server's error body comes in several shapes and all are read: FastAPI's
``{"detail": {"code", "message"}}``, ``{"detail": "text"}``, the validation list
``{"detail": [{"loc", "msg", "type"}]}``, a top-level ``{"code", "message"}``, ``{"error": ...}``
and non-JSON bodies such as a proxy's HTML error page. Every message is passed through
:func:`redact` with the client's own secrets.

Example:
    >>> import httpx
    >>> reply = httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": "no m1"}},
    ...                        request=httpx.Request("GET", "http://h/api/v1/memories/m1"))
    >>> err = error_from_response(reply)
    >>> type(err).__name__, err.code, err.status_code
    ('NotFoundError', 'NOT_FOUND', 404)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import (
    AuthenticationError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    redact,
)
from ..core.retry import parse_retry_after

if TYPE_CHECKING:
    import httpx

__all__ = ["error_from_response", "error_from_transport", "retry_after_of"]

_QUOTA_CODES = ("TIER_MEMORY_CAP_REACHED", "TIER_WEEKLY_QUOTA_REACHED")
_SNIPPET = 200


@dataclass
class _Detail:
    code: str | None = None
    message: str = ""
    field: str | None = None
    extra: dict[str, Any] | None = None
    body: Any = None


def _from_mapping(data: dict[str, Any]) -> _Detail:
    code = data.get("code") or data.get("error_code")
    message = data.get("message") or data.get("msg") or data.get("detail") or ""
    field = data.get("field") or data.get("param")
    return _Detail(
        code=str(code) if code else None,
        message=message if isinstance(message, str) else json.dumps(message),
        field=field if isinstance(field, str) else None,
        extra=data,
    )


def _from_validation_list(items: list[Any]) -> _Detail:
    parts: list[str] = []
    field: str | None = None
    for item in items:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        loc = [str(p) for p in item.get("loc", [])]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]  # where the field was sent, not part of its name
        if loc and field is None:
            field = ".".join(loc)
        parts.append(f"{'.'.join(loc) or 'request'}: {item.get('msg', 'invalid')}")
    return _Detail(code="VALIDATION_ERROR", message="; ".join(parts), field=field)


def _read_detail(response: httpx.Response) -> _Detail:
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        text = " ".join(response.text.split())[:_SNIPPET] if response.content else ""
        kind = response.headers.get("content-type", "unknown content type").split(";")[0]
        message = f"non-JSON body ({kind})" + (f": {text}" if text else "")
        return _Detail(message=message)
    detail: _Detail
    if isinstance(data, dict) and "detail" in data:
        inner = data["detail"]
        if isinstance(inner, dict):
            detail = _from_mapping(inner)
        elif isinstance(inner, list):
            detail = _from_validation_list(inner)
        else:
            detail = _Detail(message=str(inner))
    elif isinstance(data, dict) and "error" in data:
        inner = data["error"]
        detail = _from_mapping(inner) if isinstance(inner, dict) else _Detail(message=str(inner))
    elif isinstance(data, dict):
        detail = _from_mapping(data)
    else:
        detail = _Detail(message=str(data)[:_SNIPPET])
    if detail.code is None and detail.message in _QUOTA_CODES:
        detail.code = detail.message
    detail.body = data
    return detail


def _redact_json(data: Any, secrets: tuple[str | None, ...]) -> Any:
    if isinstance(data, str):
        return redact(data, *secrets)
    if isinstance(data, list):
        return [_redact_json(item, secrets) for item in data]
    if isinstance(data, dict):
        return {key: _redact_json(value, secrets) for key, value in data.items()}
    return data


def retry_after_of(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` advice in seconds, if any."""
    return parse_retry_after(response.headers.get("retry-after"))


def _where(request: httpx.Request) -> str:
    # the raw path shows ids as sent (``%2F`` stays encoded) and never the query string
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    return f"{request.method} {path}"


def error_from_response(
    response: httpx.Response, *secrets: str | None
) -> MembraneIntegrationsError:
    """The error for a non-2xx reply; the message says what happened and what to do."""
    status = response.status_code
    detail = _read_detail(response)
    server = redact(detail.message, *secrets) if detail.message else ""
    said = f": {server}" if server else ""
    body = _redact_json(detail.body, secrets)
    common: dict[str, Any] = {
        "status_code": status,
        "server_message": server or None,
        "code": detail.code,
        "body": body,
    }
    where = _where(response.request)
    if detail.code in _QUOTA_CODES and status in (403, 429):
        reset = (detail.extra or {}).get("next_weekly_reset_at")
        if detail.code == "TIER_MEMORY_CAP_REACHED":
            hint = "the plan's memory cap is reached; delete memories or upgrade the plan"
        else:
            hint = "the plan's weekly quota is used up; wait for the weekly reset or upgrade"
            if reset:
                hint += f" (next reset at {reset})"
        return QuotaExceededError(
            f"Membrain refused {where} ({status} {detail.code}){said}. {hint.capitalize()}.",
            next_weekly_reset_at=reset,
            **common,
        )
    if status == 401:
        return AuthenticationError(
            f"Membrain rejected the credentials for {where} (401){said}. Check MEMBRAIN_API_KEY "
            "or the api_key/bearer_token the client was built with.",
            **common,
        )
    if status == 403:
        return PermissionDeniedError(
            f"Membrain denied {where} (403){said}. The key is valid but may not do this.",
            **common,
        )
    if status == 404:
        return NotFoundError(
            f"Membrain found nothing at {where} (404){said}. Check the id: it may have been "
            "deleted or belong to another key.",
            **common,
        )
    if status == 409:
        return ConflictError(
            f"Membrain reported a conflict for {where} (409){said}. Re-read the target and retry.",
            **common,
        )
    if status == 429:
        retry_after = retry_after_of(response)
        wait = f" after {retry_after:g}s" if retry_after is not None else " later"
        return RateLimitedError(
            f"Membrain rate-limited {where} (429){said}. Slow down and retry{wait}.",
            retry_after=retry_after,
            **common,
        )
    if status >= 500:
        return ServerError(
            f"Membrain failed on {where} ({status}){said}. This is a server-side problem; "
            "retry later.",
            **common,
        )
    if status == 413:
        return PayloadTooLargeError(
            f"Membrain refused {where} as too large (413){said}. Send fewer or shorter items "
            "per request; sending the same request again will not help.",
            field=detail.field,
            **common,
        )
    if 400 <= status < 500:
        return InvalidRequestError(
            f"Membrain rejected {where} as invalid ({status}){said}. Fix the arguments.",
            field=detail.field,
            **common,
        )
    return MalformedResponseError(
        f"Membrain answered {where} with unexpected status {status}{said}. Check base_url "
        "(redirects are not followed).",
        **common,
    )


def error_from_transport(
    exc: httpx.RequestError, request: httpx.Request | None, *secrets: str | None
) -> MembraneIntegrationsError:
    """The error for a request that got no complete reply."""
    import httpx  # loaded already: ``exc`` is one of its errors

    where = _where(request) if request is not None else "the request"
    what = redact(str(exc), *secrets) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeoutError(
            f"Membrain did not answer {where} in time ({type(exc).__name__}: {what}). "
            "Raise the timeout or retry later."
        )
    if isinstance(exc, (httpx.ConnectError, httpx.ProxyError, httpx.UnsupportedProtocol)):
        return BackendUnavailableError(
            f"Membrain could not be reached for {where} ({what}). Check MEMBRAIN_BASE_URL and "
            "that the server is running."
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return MalformedResponseError(
            f"Membrain's reply to {where} was cut off or garbled ({what}). Retry the request."
        )
    return BackendUnavailableError(
        f"The connection to Membrain failed during {where} ({type(exc).__name__}: {what}). "
        "Retry later."
    )
