"""The docstring examples of the LangChain layer run (several start an emulator)."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.live

MODULES = [
    "membrane_integrations.langchain",
    "membrane_integrations.langchain._driver",
    "membrane_integrations.langchain._budget",
    "membrane_integrations.langchain._clients",
    "membrane_integrations.langchain._format_membrain",
    "membrane_integrations.langchain._format_membrane",
    "membrane_integrations.membrain.tenancy",
    "membrane_integrations.langchain.membrain_tools",
    "membrane_integrations.langchain.membrane_retriever",
    "membrane_integrations.langchain.membrane_toolkit",
    "membrane_integrations.langchain.membrane_tools",
    "membrane_integrations.langchain.membrain_retriever",
    "membrane_integrations.langchain.retrievers",
    "membrane_integrations.langchain.membrain_toolkit",
    "membrane_integrations.langchain.toolkits",
    "membrane_integrations.testing.chat_models",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
