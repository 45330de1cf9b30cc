"""The container helpers moved to ``membrain.tenancy``; the old import paths keep working."""

from __future__ import annotations

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
def test_old_core_paths_give_the_tenancy_functions_with_a_warning(name: str) -> None:
    import membrane_integrations.core as core
    import membrane_integrations.core.scope as scope

    for module in (core, scope):
        with pytest.warns(DeprecationWarning, match=f"{name} moved to"):
            assert getattr(module, name) is getattr(tenancy, name)


def test_unknown_names_still_raise_attribute_error() -> None:
    import membrane_integrations.core as core

    with pytest.raises(AttributeError, match=r"membrane_integrations\.core"):
        core.no_such_name  # noqa: B018
