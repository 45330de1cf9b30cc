"""The emulator's OpenAPI schema, fuzzed with Schemathesis as an outside client would.

Every operation, positive and negative data, every check; a fixed seed and a small example
budget keep the run short and repeatable. The app runs in process through Schemathesis's ASGI
transport, with the fault-free configuration a shared dev server has. A failure names the
operation and the check, and Schemathesis prints the request that reproduces it.

400 is accepted for schema-valid data: it is the documented answer to rules JSON Schema cannot
express (a scope entry that is not a pattern of the accepted subset, ``full_scope`` without a
scope, an update with nothing to change, a bulk delete without a filter).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import seed as fixed_seed  # noqa: E402

from membrane_integrations.emulator import Engine, HashingEmbeddings  # noqa: E402
from membrane_integrations.emulator.app import create_app  # noqa: E402

pytestmark = pytest.mark.live

KEY = "emu-schemathesis"
ENGINE = Engine(HashingEmbeddings())
APP = create_app(ENGINE, [KEY])

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(max_examples=8)
schema.config.update(headers={"X-API-Key": KEY})
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2xx",
    "400",
    "401",
    "403",
    "404",
    "409",
    "429",
]


SENT: list[str] = []  # one entry per case sent, for the summary line


@pytest.fixture(scope="module", autouse=True)
def _close_engine() -> Iterator[None]:
    yield
    ENGINE.close()
    print(f"\nschemathesis: {len(SENT)} cases over {len(set(SENT))} operations")


@fixed_seed(20261206)
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_every_operation_passes_every_check(case: schemathesis.Case) -> None:
    SENT.append(case.operation.label)
    case.call_and_validate(headers={"X-API-Key": KEY})


def test_the_schema_names_both_credentials_and_every_error_answer() -> None:
    from fastapi.testclient import TestClient

    with TestClient(APP) as http:
        spec = http.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "the emulator key",
    }
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    search = spec["paths"]["/api/v1/memories/search"]["post"]
    assert {"APIKeyHeader": []} in search["security"] and {"HTTPBearer": []} in search["security"]
    assert {"200", "400", "401", "413", "422", "503"} <= set(search["responses"])
    create = spec["paths"]["/api/v1/memories"]["post"]["responses"]
    assert {"202", "403", "413", "422", "429"} <= set(create)
    assert create["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorReply"
    }
    embeddings = spec["paths"]["/v1/embeddings"]["post"]["responses"]
    assert embeddings["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIErrorReply"
    }
    assert "/_emulator/faults" not in spec["paths"]  # fault injection is off on this app


def test_docs_and_redoc_are_served_offline() -> None:
    from fastapi.testclient import TestClient

    with TestClient(APP) as http:
        for page in ("/docs", "/redoc"):
            html = http.get(page)
            assert html.status_code == 200 and "text/html" in html.headers["content-type"]
            assert "cdn." not in html.text and "unpkg" not in html.text
            assets = [a for a in html.text.split('"') if a.startswith("/static-offline-docs/")]
            assert assets, html.text[:300]
            for asset in assets:
                assert http.get(asset).status_code == 200, asset
