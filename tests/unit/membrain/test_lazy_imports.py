"""Importing the Membrain adapter does not import httpx (whose ``__init__`` pulls in its CLI):
httpx is loaded where a client is built. Checked in fresh interpreters (behaviour, not timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import {module}
loaded = {{name: name in sys.modules for name in ("httpx", "click", "rich", "asyncio")}}
{after}
print(json.dumps(loaded))
"""


def _loaded(module: str, after: str = "") -> dict[str, bool]:
    code = PROBE.format(module=module, after=after)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, bool] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize(
    "module",
    [
        "membrane_integrations.membrain",
        "membrane_integrations.membrain.models",
        "membrane_integrations.membrain.tenancy",
    ],
)
def test_importing_the_adapter_loads_no_httpx(module: str) -> None:
    loaded = _loaded(module)
    assert not loaded["httpx"], f"import {module} imported httpx"
    assert not loaded["click"] and not loaded["rich"]


def test_building_a_client_loads_httpx_and_it_works() -> None:
    after = (
        "from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient\n"
        "c = MembrainClient('mb_k', base_url='http://127.0.0.1:9')\n"
        "loaded['after_sync'] = 'httpx' in sys.modules\n"
        "c.close()\n"
        "a = AsyncMembrainClient('mb_k', base_url='http://127.0.0.1:9')\n"
        "loaded['async_sleep'] = a._sleep.__module__\n"
    )
    loaded = _loaded("membrane_integrations.membrain", after)
    assert not loaded["httpx"]
    assert loaded["after_sync"] is True
    assert loaded["async_sleep"] == "asyncio.tasks"


def test_an_unreachable_server_still_maps_to_our_error() -> None:
    # The transport error is mapped with httpx imported lazily: same error as before.
    after = (
        "from membrane_integrations.core.errors import BackendUnavailableError\n"
        "from membrane_integrations.membrain import MembrainClient\n"
        "with MembrainClient('mb_k', base_url='http://127.0.0.1:9', max_retries=0) as c:\n"
        "    try:\n"
        "        c.health()\n"
        "    except BackendUnavailableError as exc:\n"
        "        loaded['error'] = type(exc).__name__\n"
    )
    assert _loaded("membrane_integrations.membrain", after)["error"] == "BackendUnavailableError"
