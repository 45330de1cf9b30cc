"""The docstring examples of the LangChain layer run (several start an emulator)."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.live

MODULES = [
    "membrane_integrations.langchain",
    "membrane_integrations.langchain._driver",
    "membrane_integrations.core.plan",
    "membrane_integrations.tools._budget",
    "membrane_integrations.tools.errors",
    "membrane_integrations.tools.spec",
    "membrane_integrations.tools.membrain",
    "membrane_integrations.tools.membrane",
    "membrane_integrations.langchain._clients",
    "membrane_integrations.tools._format_membrain",
    "membrane_integrations.tools._format_membrane",
    "membrane_integrations.membrain.tenancy",
    "membrane_integrations.langchain.membrain_tools",
    "membrane_integrations.langchain.membrane_retriever",
    "membrane_integrations.langchain.membrane_toolkit",
    "membrane_integrations.langchain.membrane_tools",
    "membrane_integrations.langchain.membrain_retriever",
    "membrane_integrations.langchain.retrievers",
    "membrane_integrations.langchain.membrain_toolkit",
    "membrane_integrations.langchain.toolkits",
    "membrane_integrations.langchain._middleware",
    "membrane_integrations.langchain.membrain_middleware",
    "membrane_integrations.tools.prompts",
    "membrane_integrations.testing.chat_models",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.membraned
def test_the_membrane_middleware_example_runs_on_the_real_daemon() -> None:
    """Its example needs a daemon, so doctest skips it; here it runs against a real one."""
    pytest.importorskip("grpc")
    from membrane_integrations.langchain import membrane_middleware
    from tests.support.membraned import Membraned, require_daemon

    source = (membrane_middleware.MembraneMemoryMiddleware.__doc__ or "").replace(
        "# doctest: +SKIP", ""
    )
    with Membraned(require_daemon()) as daemon:
        source = source.replace("localhost:9090", daemon.addr)
        globs = vars(membrane_middleware).copy()
        test = doctest.DocTestParser().get_doctest(source, globs, "example", None, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
