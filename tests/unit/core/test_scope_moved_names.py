"""The container helpers live in ``membrain.tenancy``; ``core`` no longer hands them on.

``core`` imported ``membrain.tenancy`` (a layer above it) to keep the old import paths working;
that shim is retired. An old import now fails with an error that says where the name lives.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from membrane_integrations.membrain import tenancy

MOVED = (
    "combine_scope",
    "container_filter",
    "container_token",
    "container_write_tokens",
    "encode_container_id",
)


@pytest.mark.parametrize("name", MOVED)
def test_the_names_live_in_membrain_tenancy_and_core_says_so(name: str) -> None:
    import membrane_integrations.core as core
    import membrane_integrations.core.scope as scope

    assert callable(getattr(tenancy, name))
    with pytest.raises(AttributeError, match=r"membrane_integrations\.membrain\.tenancy"):
        getattr(core, name)
    with pytest.raises(AttributeError):
        getattr(scope, name)


def test_unknown_names_still_raise_attribute_error() -> None:
    import membrane_integrations.core as core

    with pytest.raises(AttributeError, match=r"membrane_integrations\.core"):
        core.no_such_name  # noqa: B018


def test_core_imports_no_adapter() -> None:
    probe = "import membrane_integrations.core, sys; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "membrane_integrations.membrain" not in out
    assert "membrane_integrations.membrane'" not in out
