"""Property: no tool argument sent over MCP reaches another container, on either backend.

Two MCP servers per backend, built as the command line builds them (``membrain_server`` /
``membrane_server``) for containers A and B of one emulator / one real membraned, each with a
seeded memory. Each example draws a direction (A calls while B is the victim, or the reverse), a
tool of the caller's server and arguments for it: every field filled from the victim's ids,
container names, tokens and anchored patterns, wildcards, hostile text, out-of-range numbers, or
left out. The call goes through a real MCP client session. Seen from the victim's own
container, nothing changed across the call (no memory added, changed, removed, reinforced); and
the caller's reply never shows the victim's seeded content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import ClientSession
from mcp.shared.memory import create_connected_server_and_client_session
from pydantic import BaseModel, JsonValue

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.mcp import membrain_server, membrane_server
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.tenancy import container_filter, container_token
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    MemoryRecord,
    Sensitivity,
    TrustContext,
)
from membrane_integrations.tools.membrain import membrain_specs
from membrane_integrations.tools.membrane import MembraneIdentity, membrane_specs
from tests.support.membraned import Membraned, require_daemon

from .strategies import ALPHABET

pytestmark = pytest.mark.live

LIVE = settings.get_profile("tenancy")
KEY = "mcp-tenancy-property-key"


class Side:
    """One container: its MCP session, its seeded memory, how to look at it directly."""

    def __init__(self, name: str, session: ClientSession, memory_id: str, secret: str) -> None:
        self.name = name
        self.session = session
        self.memory_id = memory_id
        self.secret = secret


def _hostile_strings(victim: Side, caller: Side) -> st.SearchStrategy[str]:
    v = victim.name
    return st.one_of(
        st.sampled_from(
            [
                victim.memory_id,
                caller.memory_id,
                v,
                f"container.{v}",
                container_token(v),
                container_filter(v),
                f"^container\\.{v}",
                ".*",
                "container\\..*",
                "^.*$",
                "What is the vault code?",  # the victim's memory answers it: never shown
                "vault",
                "",
                " ",
            ]
        ),
        st.text(alphabet=ALPHABET, min_size=0, max_size=12),
    )


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    """The field's constraints (``ge``, ``le``, ``min_length``...) as a dict."""
    found: dict[str, Any] = {}
    for item in metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, key, None)
            if value is not None:
                found[key] = value
    return found


def _strategy(annotation: Any, text: st.SearchStrategy[str], bounds: dict[str, Any]) -> Any:
    """Values for one argument from its annotation: mostly valid (so the call reaches the
    backend), sometimes out of bounds (so validation is crossed too)."""
    origin = get_origin(annotation)
    if annotation is JsonValue or getattr(annotation, "__name__", "") == "JsonValue":
        return st.one_of(st.none(), text, st.dictionaries(text, text, max_size=2))
    if origin is Literal:
        valid = st.sampled_from(get_args(annotation))
        return st.one_of(valid, valid, valid, text)
    if origin is Union or str(origin) == "<class 'types.UnionType'>":
        options = [a for a in get_args(annotation) if a is not type(None)]
        return st.one_of(st.none(), *[_strategy(a, text, bounds) for a in options])
    if origin is list:
        (item,) = get_args(annotation)
        low = bounds.get("min_length", 0)
        return st.lists(_strategy(item, text, {}), min_size=low, max_size=max(low, 3))
    if origin is dict:
        low = bounds.get("min_length", 0)
        return st.dictionaries(text, st.one_of(text, st.integers()), min_size=low, max_size=2)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        low, high = bounds.get("ge", -5), bounds.get("le", 105)
        return st.one_of(st.integers(low, high), st.integers(low - 2, high + 2))
    if annotation is float:
        low, high = bounds.get("ge", bounds.get("gt", 0.0)), bounds.get("le", 1.0)
        inside = st.floats(low, high, allow_nan=False).filter(lambda x: x > bounds.get("gt", -1))
        return st.one_of(inside, st.floats(-0.5, 1.5, allow_nan=False))
    if bounds.get("min_length"):
        return st.one_of(text.filter(lambda t: t.strip() != ""), text)
    return text


@st.composite
def tool_calls(
    draw: st.DrawFn, specs: dict[str, type[BaseModel]], victim: Side, caller: Side
) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(specs)))
    text = _hostile_strings(victim, caller)
    args: dict[str, Any] = {}
    # an id argument names the victim's memory most of the time: the likeliest way in
    ids = st.one_of(st.just(victim.memory_id), st.just(victim.memory_id), text)
    for field, info in specs[name].model_fields.items():
        if not (info.is_required() or draw(st.booleans())):
            continue
        naming = field.endswith(("id", "ids", "_1", "_2", "_ref")) or field == "depends_on"
        pool = ids if naming else text
        args[field] = draw(_strategy(info.annotation, pool, _bounds(info.metadata)))
    if draw(st.integers(0, 9)) == 0:  # now and then an argument the tool does not have
        args[draw(st.sampled_from(["container", "scope_override", "trust", "actor"]))] = victim.name
    return name, args


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as running:
        yield running


def _enter(portal: BlockingPortal, stack: list[AbstractContextManager[Any]], cm: Any) -> Any:
    wrapped = portal.wrap_async_context_manager(cm)
    value = wrapped.__enter__()
    stack.append(wrapped)
    return value


@pytest.fixture(scope="module")
def membrain_sides(portal: BlockingPortal) -> Iterator[tuple[MembrainClient, Side, Side]]:
    stack: list[AbstractContextManager[Any]] = []
    with MembrainEmulator(embedder="hashing") as emu, emu.client() as direct:
        run = uuid.uuid4().hex[:6]
        sides = []
        for label in ("alpha", "bravo"):
            name = f"{label}-{run}"
            secret = f"{label} secret {run}: the vault code is {label[::-1]}"
            seeded = direct.add(secret, scope=[container_token(name)], wait=True)
            assert seeded.memory_id is not None
            client = _enter(portal, stack, AsyncMembrainClient(emu.api_key, base_url=emu.url))
            server = membrain_server(client, container=name, graph=True)
            session = _enter(
                portal, stack, create_connected_server_and_client_session(server.lowlevel)
            )
            sides.append(Side(name, session, seeded.memory_id, secret))
        try:
            yield direct, sides[0], sides[1]
        finally:
            for cm in reversed(stack):
                cm.__exit__(None, None, None)


MEMBRAIN_ARGS = {spec.name: spec.args for spec in membrain_specs(graph=True)}


@settings(LIVE, max_examples=60)
@given(data=st.data())
def test_no_membrain_tool_argument_reaches_another_container(
    membrain_sides: tuple[MembrainClient, Side, Side], portal: BlockingPortal, data: st.DataObject
) -> None:
    direct, alpha, bravo = membrain_sides
    caller, victim = data.draw(st.sampled_from([(alpha, bravo), (bravo, alpha)]))
    name, args = data.draw(tool_calls(MEMBRAIN_ARGS, victim, caller))

    before = _membrain_view(direct, victim.name)
    result = portal.call(caller.session.call_tool, name, args)

    assert victim.secret not in _text(result)
    # the victim's container, seen from itself: the same memories, unchanged
    assert _membrain_view(direct, victim.name) == before


def _membrain_view(direct: MembrainClient, container: str) -> dict[str, tuple[str, list[str]]]:
    """Every memory of the container, as its own server would list it: id -> content, scope."""
    count = direct.count(scope=[container_filter(container)])
    hits = direct.search("vault", k=100, scope=[container_filter(container)]).results
    ids = [hit.id for hit in hits]
    assert len(ids) == count  # well under 100 per container in this test
    return {m.id: (m.content, sorted(m.scope)) for m in direct.get_many(ids)} if ids else {}


@pytest.fixture(scope="module")
def membrane_sides(
    portal: BlockingPortal,
) -> Iterator[tuple[MembraneClient, Side, Side]]:
    stack: list[AbstractContextManager[Any]] = []
    with (
        Membraned(require_daemon(), api_key=KEY) as daemon,
        MembraneClient(daemon.addr, api_key=KEY) as direct,
    ):
        run = uuid.uuid4().hex[:6]
        sides = []
        for label in ("alpha", "bravo"):
            name = f"{label}-{run}"
            secret = f"{label} secret {run}"
            record = direct.ingest_observation(
                "vault", "code", secret, scope=name, source="seed", sensitivity=Sensitivity.LOW
            )

            async def make_client(addr: str = daemon.addr) -> AsyncMembraneClient:
                return AsyncMembraneClient(addr, api_key=KEY)

            client = _enter(portal, stack, portal.call(make_client))
            identity = MembraneIdentity(
                trust=TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True),
                actor=f"mcp:{name}",
                scope=name,
                source="mcp",
            )
            server = membrane_server(client, identity, revisions=True)
            session = _enter(
                portal, stack, create_connected_server_and_client_session(server.lowlevel)
            )
            sides.append(Side(name, session, record.id, secret))
        try:
            yield direct, sides[0], sides[1]
        finally:
            for cm in reversed(stack):
                cm.__exit__(None, None, None)


MEMBRANE_ARGS = {spec.name: spec.args for spec in membrane_specs(revisions=True)}
EVERYTHING = Sensitivity.HYPER


def _in_scope(direct: MembraneClient, scope: str) -> list[MemoryRecord]:
    trust = TrustContext(max_sensitivity=EVERYTHING, authenticated=True, scopes=[scope])
    records = direct.retrieve("vault code and everything else", trust=trust, limit=100)
    return [r for r in records if r.scope == scope]


@pytest.mark.membraned
@settings(LIVE, max_examples=40)
@given(data=st.data())
def test_no_membrane_tool_argument_reaches_another_scope(
    membrane_sides: tuple[MembraneClient, Side, Side], portal: BlockingPortal, data: st.DataObject
) -> None:
    direct, alpha, bravo = membrane_sides
    caller, victim = data.draw(st.sampled_from([(alpha, bravo), (bravo, alpha)]))
    name, args = data.draw(tool_calls(MEMBRANE_ARGS, victim, caller))

    before = _membrane_view(direct, victim.name)
    result = portal.call(caller.session.call_tool, name, args)

    assert victim.secret not in _text(result)
    # the victim's scope, seen from itself: the same records, unrevised, unreinforced
    after = _membrane_view(direct, victim.name)
    assert after.keys() == before.keys()
    for record_id, (state, salience) in after.items():
        assert state == before[record_id][0]
        assert salience == pytest.approx(before[record_id][1], abs=1e-3)


def _membrane_view(direct: MembraneClient, scope: str) -> dict[str, tuple[Any, float]]:
    """Every record of the scope: id -> (payload, audit log length, tags, sensitivity), salience."""
    return {
        r.id: ((r.payload, len(r.audit_log), r.tags, r.sensitivity), r.salience)
        for r in _in_scope(direct, scope)
    }
