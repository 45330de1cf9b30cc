"""The container rules, pure: adversarial ids never select another container."""

from __future__ import annotations

import pytest

from membrane_integrations.core.errors import InvalidRequestError, NotFoundError
from membrane_integrations.membrain.tenancy import Tenancy, container_filter, container_token

ADVERSARIAL = ["bob", "Bob", "bob2", "a.b", "aXb", "a|b", "a", "b", ".*", "é-ü😀", "e-u"]


@pytest.mark.parametrize("mine", ADVERSARIAL)
def test_each_container_owns_only_its_own_token(mine: str) -> None:
    tenancy = Tenancy(mine)
    for other in ADVERSARIAL:
        owned = tenancy.owns([container_token(other)])
        assert owned is (other == mine), (mine, other)
    assert tenancy.owns([]) is False
    assert tenancy.owns(["container.x", container_token(mine)]) is True


def test_read_scope_puts_the_anchored_escaped_filter_first() -> None:
    assert Tenancy("a|b").read_scope([".*"]) == [container_filter("a|b"), ".*"]
    assert Tenancy(".*").read_scope(None) == [container_filter(".*")]
    assert Tenancy("bob").read_scope(None) == ["^container\\.bob$"]
    assert Tenancy(None).read_scope(None) is None
    assert Tenancy(None).read_scope(["x"]) == ["x"]
    with pytest.raises(InvalidRequestError, match="named groups"):
        Tenancy("bob").read_scope(["(?P<x>a)"])


def test_write_tokens_adds_ours_first_and_rejects_other_containers() -> None:
    t = Tenancy("bob")
    guard = "^container\\.bob$"
    assert t.write_tokens(None) == ["container.bob", guard]
    assert t.write_tokens(["x", "container.bob", guard]) == ["container.bob", guard, "x"]
    for bad in ["container.bob2", "Container.alice", "container.", "^container\\.alice$"]:
        with pytest.raises(InvalidRequestError, match="reserved"):
            t.write_tokens([bad])
    with pytest.raises(InvalidRequestError, match="at most"):
        t.write_tokens([f"t{i}" for i in range(49)])
    assert Tenancy(None).write_tokens(["container.any"]) == ["container.any"]


def test_require_raises_the_plain_not_found_error() -> None:
    with pytest.raises(NotFoundError, match="'m9' was not found"):
        Tenancy("bob").require("m9", ["container.bob2"])
    Tenancy("bob").require("m1", ["container.bob"])
    Tenancy(None).require("m1", None)


def test_bad_container_ids_fail_at_construction() -> None:
    for bad in ["", "a\tb", "x" * 300, "." * 130]:
        with pytest.raises(InvalidRequestError):
            Tenancy(bad)


def test_guard_token_never_matches_as_a_stored_literal() -> None:
    for mine in ADVERSARIAL:
        guard = Tenancy(mine).write_tokens(None)[1]
        for other in ADVERSARIAL:
            assert Tenancy(other).owns([guard]) is False


@pytest.mark.parametrize(
    "token",
    [
        "CONTAINER.alice",
        "cOnTaInEr.alice",
        "conta\u0131ner.x",  # dotless i: regex case folding matches i
        "conta\u0130ner.x",  # dotted capital I
        "\uff43ontainer.alice",  # fullwidth c: NFKC folds it
        " container.alice",
        "^CONTAINER\\.alice$",
        "(?i)container.alice",
        "(?:container\\.alice)",
        "container",
        "Container\\.alice",
    ],
)
def test_tokens_the_server_could_read_as_a_container_token_are_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError, match="reserved") as refused:
        Tenancy("bob").write_tokens(["ok", token], field="metadata['scope']")
    assert refused.value.field == "metadata['scope']"


@pytest.mark.parametrize(
    "token",
    [
        "c\u043entainer.alice",
        "type.container.alice",
        "containers",
        "x|container.alice",
        "%63ontainer",
    ],
)
def test_tokens_no_container_filter_can_select_are_stored_as_given(token: str) -> None:
    stored = Tenancy("bob").write_tokens([token])
    assert stored[2:] == [token]
    assert not Tenancy("alice").owns(stored)


def test_metadata_keys_naming_a_container_are_refused_in_any_case() -> None:
    t = Tenancy("bob")
    for key in ["container", "CONTAINER", "Container", "contaIner", "\uff43ontainer"]:
        with pytest.raises(InvalidRequestError, match="reserved") as refused:
            t.check_key(key, field=f"metadata[{key!r}]")
        assert refused.value.field == f"metadata[{key!r}]"
    t.check_key("type")
    t.check_key("containers")
    Tenancy(None).check_key("container")  # no container, nothing to protect
