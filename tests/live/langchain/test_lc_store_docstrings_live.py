"""The docstring examples of the stores and chat histories run (they start their own servers)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.support.membraned import require_daemon

pytestmark = pytest.mark.live

MODULES = [
    "membrane_integrations.langchain._store_base",
    "membrane_integrations.langchain._membrain_listing",
    "membrane_integrations.langchain._chat_envelope",
    "membrane_integrations.langchain.store_membrain",
    "membrane_integrations.langchain.chat_history_membrain",
    "membrane_integrations.membrain.expiry",
    "membrane_integrations.core.ttl",
]
DAEMON_MODULES = [
    "membrane_integrations.langchain.store_membrane",
    "membrane_integrations.langchain.chat_history_membrane",
    "membrane_integrations.membrane.expiry",
]


@pytest.mark.parametrize("name", MODULES + DAEMON_MODULES)
def test_docstring_examples(name: str) -> None:
    if name in DAEMON_MODULES:
        require_daemon()  # the examples start a membraned: skip or fail as the other live tests
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
