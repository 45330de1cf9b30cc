"""Client configuration shared by the sync and the async Membrain client.

Resolves the credentials and the URL (arguments first, then ``MEMBRAIN_API_KEY`` and
``MEMBRAIN_BASE_URL``), keeps the key in a pydantic ``SecretStr`` so it never shows in a repr,
and builds the headers and the per-call :class:`~._flows.Context`.

Example:
    >>> cfg = ClientConfig.resolve(api_key="mb_test_k", base_url="http://h:8080/api/v1/")
    >>> cfg.root_url, repr(cfg)
    ('http://h:8080', "ClientConfig(base_url='http://h:8080', api_key='***')")
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import SecretStr

from .. import __version__
from ..core.errors import InvalidRequestError
from ..core.retry import RetryPolicy
from ._flows import Context, PollPolicy
from ._protocol import API_PREFIX
from ._transport import Target

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "ClientConfig"]

API_KEY_ENV = "MEMBRAIN_API_KEY"
BASE_URL_ENV = "MEMBRAIN_BASE_URL"


def _root_url(base_url: str) -> str:
    import httpx  # here, not at import: see _flows.py

    url = base_url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)].rstrip("/")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidRequestError(f"base_url is not a valid URL: {exc}", field="base_url") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidRequestError(
            "base_url must be an http(s) URL of the host root, e.g. http://127.0.0.1:8080 "
            f"(set it or {BASE_URL_ENV})",
            field="base_url",
        )
    if parsed.userinfo:
        raise InvalidRequestError(
            "base_url must not carry credentials; pass api_key or bearer_token instead",
            field="base_url",
        )
    return url


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """Everything a client needs besides its httpx client."""

    root_url: str
    api_key: SecretStr | None
    bearer_token: SecretStr | None
    timeout: float | None
    retry: RetryPolicy
    poll: PollPolicy = field(default_factory=PollPolicy)
    add_tokens: bool = True

    @classmethod
    def resolve(
        cls,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        bearer_token: str | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        add_tokens: bool = True,
    ) -> ClientConfig:
        """Apply the environment fallbacks and check everything before any request."""
        if api_key is None and bearer_token is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        if not api_key and not bearer_token:
            raise InvalidRequestError(
                f"no Membrain credentials: pass api_key=... (or bearer_token=...) or set "
                f"{API_KEY_ENV}",
                field="api_key",
            )
        url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV)
        if not url:
            raise InvalidRequestError(
                f"no Membrain URL: pass base_url=... (the host root, e.g. http://127.0.0.1:8080) "
                f"or set {BASE_URL_ENV}",
                field="base_url",
            )
        if timeout is not None and timeout <= 0:
            raise InvalidRequestError("timeout must be > 0 seconds or None", field="timeout")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", field="max_retries")
        policy = retry_policy or RetryPolicy(max_retries=max_retries)
        return cls(
            root_url=_root_url(url),
            api_key=SecretStr(api_key) if api_key else None,
            bearer_token=SecretStr(bearer_token) if bearer_token else None,
            timeout=timeout,
            retry=policy,
            poll=poll_policy or PollPolicy(),
            add_tokens=bool(add_tokens),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The raw secrets, for redaction only."""
        return tuple(s.get_secret_value() for s in (self.api_key, self.bearer_token) if s)

    def headers(self) -> dict[str, str]:
        """Auth and content headers sent with every request."""
        headers = {
            "Accept": "application/json",
            "User-Agent": f"membrane-integrations/{__version__}",
        }
        if self.api_key is not None:
            headers["X-API-Key"] = self.api_key.get_secret_value()
        if self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token.get_secret_value()}"
        return headers

    def target(self) -> Target:
        """The driver's view of this configuration."""
        return Target(self.root_url, self.headers(), self.timeout)

    def context(
        self, timeout: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> Context:
        """The flow context of one call (``timeout`` overrides the client's for that call)."""
        if timeout is not None and timeout <= 0:
            raise InvalidRequestError("timeout must be > 0 seconds", field="timeout")
        return Context(
            retry=self.retry,
            poll=self.poll,
            secrets=self.secrets,
            timeout=timeout,
            clock=clock,
        )

    def __repr__(self) -> str:
        key = "'***'" if self.api_key else "None"
        extra = ", bearer_token='***'" if self.bearer_token else ""
        return f"ClientConfig(base_url={self.root_url!r}, api_key={key}{extra})"
