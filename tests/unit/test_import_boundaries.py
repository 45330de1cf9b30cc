"""What each entry point imports: a user of one backend or framework never loads the other's stack.

Each case runs in a fresh interpreter (``sys.modules`` of this one is full already), imports the
names a user imports, and checks which top-level packages and modules of ours got loaded. This is
behaviour, not timing: the cost itself is measured by ``benchmarks/import_time.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import json, sys
exec(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""

# (statement, modules that must not be loaded after it)
CASES = [
    (
        "import membrane_integrations",
        ["httpx", "grpc", "pydantic", "langchain_core", "autogen_core", "mcp"],
    ),
    (
        "from membrane_integrations.langchain import MembraneToolkit, MembraneRetriever",
        ["httpx", "membrane_integrations.membrain", "membrane_integrations.emulator", "mcp"],
    ),
    (
        "from membrane_integrations.langchain import MembrainToolkit, MembrainRetriever",
        [
            "grpc",
            "httpx",
            "membrane_integrations.membrane",
            "membrane_integrations.emulator",
            "mcp",
        ],
    ),
    ("import membrane_integrations.langchain", ["httpx", "grpc", "membrane_integrations.membrain"]),
    (
        "from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig",
        ["grpc", "httpx", "membrane_integrations.membrane", "mcp"],
    ),
    (
        "from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig",
        ["httpx", "membrane_integrations.emulator"],
    ),
    (
        "from membrane_integrations.membrane import MembraneClient, MemoryRecord",
        ["httpx", "pydantic", "membrane_integrations.membrain"],
    ),
    (
        "from membrane_integrations.membrain import MembrainClient, AsyncMembrainClient",
        ["httpx", "grpc", "membrane_integrations.membrane", "mcp"],
    ),
    # the command line's parser (mcp subcommands included) and the MCP package's names load no mcp
    ("import membrane_integrations.__main__", ["mcp", "httpx", "grpc", "langchain_core"]),
    ("import membrane_integrations.mcp", ["mcp", "httpx", "grpc"]),
    # the tool definitions are framework-neutral: no LangChain, AutoGen or MCP
    (
        "import membrane_integrations.tools.membrain, membrane_integrations.tools.membrane",
        ["langchain_core", "autogen_core", "agent_framework", "mcp"],
    ),
    # the MCP server of one backend loads neither a framework nor the other backend
    (
        "from membrane_integrations.mcp import membrain_server",
        ["langchain_core", "autogen_core", "grpc", "membrane_integrations.membrane"],
    ),
    (
        "from membrane_integrations.mcp import membrane_server",
        ["langchain_core", "autogen_core", "membrane_integrations.membrain"],
    ),
]


def loaded_after(statement: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, statement],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(("statement", "absent"), CASES, ids=[c[0] for c in CASES])
def test_an_entry_point_loads_only_its_own_stack(statement: str, absent: list[str]) -> None:
    loaded = loaded_after(statement)
    assert [name for name in absent if name in loaded] == []


def test_every_lazy_langchain_name_resolves_to_its_module_object() -> None:
    import importlib

    import membrane_integrations.langchain as package

    assert sorted(package.__all__) == sorted(package._LAZY)
    for name in package.__all__:
        module = importlib.import_module(package._LAZY[name], package.__name__)
        assert getattr(package, name) is getattr(module, name)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        package.Nope  # noqa: B018
