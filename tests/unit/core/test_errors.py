"""core.errors: the hierarchy, the extra attributes, and redaction of anything key-shaped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from membrane_integrations.core import errors as e


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key mb_live_abc123XYZ_-9 rejected", "mb_live_abc123XYZ_-9"),
        ("key mb_test_zzz was wrong", "mb_test_zzz"),
        ("Authorization: Bearer eyJhbGciOi.J9.sig-_~+/=", "eyJhbGciOi.J9.sig-_~+/="),
        ("got bearer abc.def.ghi", "abc.def.ghi"),
        ("openai sk-proj-ABCDEFGH12345 failed", "sk-proj-ABCDEFGH12345"),
        ('{"X-API-Key": "customkey123"}', "customkey123"),
        ("x-api-key=customkey123, other", "customkey123"),
        ("authorization: 'token123abc'", "token123abc"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("X-API-Key: <b>customkey123", "<b>customkey123"),
    ],
)
def test_redact_removes_credential_shapes(text: str, secret: str) -> None:
    out = e.redact(text)
    assert secret not in out
    assert "[redacted]" in out


def test_redact_removes_explicit_secrets_anywhere() -> None:
    out = e.redact("plain s3cr3t-value and again s3cr3t-value", "s3cr3t-value", None, "")
    assert out == "plain [redacted] and again [redacted]"


def test_redact_ignores_very_short_secrets() -> None:
    # a 3-character "secret" would shred ordinary text
    assert e.redact("the cat sat", "the") == "the cat sat"


@pytest.mark.parametrize(
    "hint",
    [
        "send X-API-Key: <your key> or Authorization: Bearer <your key>",
        "missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>",
    ],
)
def test_redact_keeps_the_words_of_a_hint(hint: str) -> None:
    """Only secrets go: header names, the auth scheme and <placeholders> are the hint."""
    assert e.redact(hint) == hint
    assert e.redact(hint, "k3y-value") == hint
    real = hint.replace("<your key>", "k3y-value").replace("<key>", "k3y-value")
    assert "k3y-value" not in e.redact(real)
    assert "X-API-Key: [redacted]" in e.redact(real)
    assert "Authorization: Bearer [redacted]" in e.redact(real)


def test_a_wrong_key_error_keeps_the_emulators_hint() -> None:
    from membrane_integrations.core.errors import AuthenticationError
    from membrane_integrations.emulator import MembrainEmulator
    from membrane_integrations.membrain import MembrainClient

    with (
        MembrainEmulator() as emulator,
        MembrainClient(base_url=emulator.url, api_key="wrong-secret-key") as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.stats()
    text = str(caught.value)
    assert "send X-API-Key: <key> or Authorization: Bearer <key>" in text
    assert "wrong-secret-key" not in text


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "memory m1 not found at /api/v1/memories/m1 (404)"
    assert e.redact(text) == text


def test_errors_redact_their_message_and_server_message() -> None:
    err = e.AuthenticationError(
        "rejected mb_live_leakme",
        status_code=401,
        server_message="bad key mb_live_leakme",
        code="UNAUTHORIZED",
    )
    for text in (str(err), repr(err), err.message, err.server_message or ""):
        assert "mb_live_leakme" not in text
    assert (
        repr(err)
        == "AuthenticationError('rejected [redacted]', status_code=401, code='UNAUTHORIZED')"
    )


def test_hierarchy() -> None:
    classes = [
        e.AuthenticationError,
        e.PermissionDeniedError,
        e.NotFoundError,
        e.InvalidRequestError,
        e.ConflictError,
        e.QuotaExceededError,
        e.RateLimitedError,
        e.ServerError,
        e.MalformedResponseError,
        e.BackendUnavailableError,
        e.BackendTimeoutError,
    ]
    for cls in classes:
        assert issubclass(cls, e.MembraneIntegrationsError)
    # a tier quota is not a rate limit: retrying does not help
    assert not issubclass(e.QuotaExceededError, e.RateLimitedError)


def test_extra_attributes() -> None:
    quota = e.QuotaExceededError(
        "weekly", next_weekly_reset_at="2026-03-16T00:00:00Z", status_code=429
    )
    assert quota.next_weekly_reset_at == "2026-03-16T00:00:00Z" and quota.status_code == 429
    limited = e.RateLimitedError("slow", retry_after=2.0)
    assert limited.retry_after == 2.0
    invalid = e.InvalidRequestError("k too big", field="k")
    assert invalid.field == "k"
    failed = e.IngestFailedError("failed", job_id="j1", retryable=True, code="X")
    assert (failed.job_id, failed.retryable, failed.code) == ("j1", True, "X")
    timeout = e.IngestTimeoutError("still running", job_id="j2", last_status="processing")
    assert (timeout.job_id, timeout.last_status) == ("j2", "processing")
    grpc = e.NotFoundError("no record", grpc_code="NOT_FOUND")
    assert "grpc_code='NOT_FOUND'" in repr(grpc)


_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/="


@given(
    secret=st.text(alphabet=_KEY_CHARS, min_size=4, max_size=64),
    template=st.sampled_from(
        [
            "send X-API-Key: {} please",
            "Authorization: Bearer {}",
            "authorization={}",
            '{{"x-api-key": "{}"}}',
            "Authorization: Basic {}",
        ]
    ),
)
def test_redact_removes_any_header_value_but_keeps_the_words(secret: str, template: str) -> None:
    assert e.redact(template.format(secret)) == template.format("[redacted]")
