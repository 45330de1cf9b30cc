"""A missing extra raises an ImportError (still a ModuleNotFoundError) that names the extra.

Each case runs in a fresh interpreter where the dependency is made unimportable
(``sys.modules[name] = None``, what Python does for a blocked module) and then imports the
name a user would import.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    # (missing module, what the user imports, the extra the message must name)
    ("numpy", "from membrane_integrations.emulator import MembrainEmulator", "emulator"),
    ("fastapi", "from membrane_integrations.emulator import MembrainEmulator", "emulator"),
    ("numpy", "from membrane_integrations.embeddings import WordLlamaEmbedder", "embeddings"),
    ("grpc", "from membrane_integrations.membrane import MembraneClient", "membrane"),
    ("langchain_core", "from membrane_integrations.langchain import MembrainToolkit", "langchain"),
    (
        "langchain",
        "from membrane_integrations.langchain import MembrainMemoryMiddleware",
        "langchain-agents",
    ),
    ("langgraph", "from membrane_integrations.langchain import MembrainStore", "langgraph"),
    ("autogen_core", "from membrane_integrations.autogen import MembrainMemory", "autogen"),
    (
        "agent_framework",
        "from membrane_integrations.agent_framework import MembrainContextProvider",
        "agent-framework",
    ),
    (
        "autogen_ext",
        "from membrane_integrations.__main__ import main; main(['demo', '--backend', 'membrain'])",
        "demo",
    ),
]

_PROBE = """
import json, sys
for name in list(sys.modules):
    if name == {missing!r} or name.startswith({missing!r} + "."):
        del sys.modules[name]
sys.modules[{missing!r}] = None
try:
    {statement}
except ImportError as exc:
    print(json.dumps({{"type": type(exc).__name__, "message": str(exc),
        "module_not_found": isinstance(exc, ModuleNotFoundError),
        "extra": getattr(exc, "extra", None), "name": exc.name}}))
else:
    print(json.dumps(None))
"""


@pytest.mark.parametrize(("missing", "statement", "extra"), CASES, ids=lambda v: str(v)[:40])
def test_a_missing_dependency_names_its_extra(missing: str, statement: str, extra: str) -> None:
    code = textwrap.dedent(_PROBE).format(missing=missing, statement=statement)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    raised = json.loads(proc.stdout.strip().splitlines()[-1])
    assert raised is not None, f"{statement} imported without {missing}"
    assert raised["type"] == "MissingExtraError" and raised["module_not_found"]
    assert raised["extra"] == extra and raised["name"] == missing
    assert f"pip install 'membrane-integrations[{extra}]'" in raised["message"]


def test_our_own_missing_modules_are_not_blamed_on_an_extra() -> None:
    from membrane_integrations._extras import MissingExtraError, requires_extra

    with pytest.raises(ModuleNotFoundError) as caught, requires_extra("langchain"):
        import membrane_integrations.no_such_module  # noqa: F401
    assert not isinstance(caught.value, MissingExtraError)
