"""membrane.tenancy: the trust sent, the records in view, the write floor (pure)."""

from __future__ import annotations

import pytest

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.membrane.tenancy import MembraneView, check_metadata_key
from membrane_integrations.membrane.types import MemoryRecord, Sensitivity, TrustContext

BASE = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)


def test_trust_defaults_actor_and_scopes_and_is_a_fresh_copy() -> None:
    view = MembraneView(BASE, actor="agent-1", scope="p")
    trust = view.trust
    assert (trust.max_sensitivity, trust.actor_id, trust.scopes) == (
        Sensitivity.MEDIUM,
        "agent-1",
        ["p"],
    )
    trust.scopes.append("other")
    trust.max_sensitivity = Sensitivity.HYPER
    assert view.trust.scopes == ["p"] and view.trust.max_sensitivity is Sensitivity.MEDIUM
    assert BASE.scopes == []


def test_explicit_trust_scopes_and_actor_win_over_the_defaults() -> None:
    base = TrustContext(max_sensitivity=Sensitivity.LOW, actor_id="app", scopes=["a", "b"])
    trust = MembraneView(base, actor="agent-1", scope="a").trust
    assert (trust.actor_id, trust.scopes) == ("app", ["a", "b"])
    assert MembraneView(BASE).trust.scopes == []


def test_in_view_is_an_exact_scope_match_and_skips_unscoped_and_redacted() -> None:
    view = MembraneView(BASE, scope="Bob")
    assert view.in_view(MemoryRecord(id="1", scope="Bob"))
    for other in ["bob", "BOB", "Bob ", "", "Bob2"]:
        assert not view.in_view(MemoryRecord(id="2", scope=other)), other
    redacted = MemoryRecord(id="3", scope="Bob", payload=None)
    assert redacted.redacted and not view.visible(redacted)
    assert MembraneView(BASE, scope="Bob", include_redacted=True).visible(redacted)
    assert MembraneView(BASE).in_view(MemoryRecord(id="4", scope="anything"))


def test_write_sensitivity_never_goes_below_the_floor() -> None:
    view = MembraneView(BASE, floor=Sensitivity.MEDIUM)
    assert [view.write_sensitivity(s) for s in (None, "public", "low", "medium", "high")] == [
        "medium",
        "medium",
        "medium",
        "medium",
        "high",
    ]
    with pytest.raises(InvalidRequestError):
        view.write_sensitivity("secret")


def test_metadata_keys_naming_the_scope_are_refused_in_any_case() -> None:
    for key in ["scope", "Scope", "SCOPE", "container", "CONTAINER"]:
        with pytest.raises(InvalidRequestError, match="reserved"):
            check_metadata_key(key)
    check_metadata_key("topic")
    check_metadata_key(3)
