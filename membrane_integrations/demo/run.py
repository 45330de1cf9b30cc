"""``run_demo``: the stories of ``python -m membrane_integrations demo`` (see the package doc).

The LangChain and AutoGen stories are imported when they run, so the notebook helpers beside
this module load without them.

Example:
    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> run_demo(backend="membrain", out=out, err=err)
    0
    >>> "From memory: User's dog is called Rex." in out.getvalue()
    True
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, TextIO

from ..core.errors import MembraneIntegrationsError
from .console import Console

if TYPE_CHECKING:
    from .membrain_stories import MembrainTarget

__all__ = ["Backend", "run_demo"]

Backend = Literal["membrain", "membrane", "both"]


@contextmanager
def _membrain_target(
    base_url: str | None, api_key: str | None, console: Console
) -> Iterator[MembrainTarget]:
    from .membrain_stories import MembrainTarget

    if base_url and api_key:
        console.say(f"Membrain: {base_url} (hosted; the demo deletes what it stores)", 0)
        yield MembrainTarget(base_url, api_key)
        return
    from ..emulator import MembrainEmulator

    with console.wait("starting the Membrain emulator"):
        emu = MembrainEmulator().start()
    try:
        console.say(f"Membrain: in-process emulator at {emu.url} (no key, no network;", 0)
        console.say("--base-url and --api-key run the same stories against a hosted Membrain)", 10)
        yield MembrainTarget(emu.url, emu.api_key)
    finally:
        emu.stop()


def _membrain(base_url: str | None, api_key: str | None, console: Console) -> int:
    from .membrain_stories import agent_story, autogen_story, cleanup, rag_story

    prefix = f"demo-{secrets.token_hex(4)}"
    containers = [f"{prefix}-agent", f"{prefix}-rag", f"{prefix}-autogen"]
    with _membrain_target(base_url, api_key, console) as target:
        try:
            agent_story(target, containers[0], console)
            rag_story(target, containers[1], console)
            autogen_story(target, containers[2], console)
        except MembraneIntegrationsError as exc:
            console.say(f"\nThe Membrain stories stopped: {exc}", 0)
            return 1
        finally:
            try:
                deleted = cleanup(target, containers)
                console.say(f"\n(cleaned up: {deleted} demo memories deleted)", 0)
            except MembraneIntegrationsError as exc:
                console.say(f"(could not clean up the demo memories: {exc})", 0)
    return 0


def _membrane(console: Console, *, required: bool) -> int:
    from ..membrane.daemon import LocalMembraned, find_membraned, install_hint

    with console.wait("finding membraned (a first build from source takes a minute)"):
        binary = find_membraned(quiet=True)
    if binary is None:
        hint = " ".join(install_hint().split())
        console.say(f"\nMembrane stories skipped: {hint}", 0, wrap=False)
        return 1 if required else 0
    from .membrane_stories import membrane_autogen_story, typed_memory_story

    try:
        with console.wait("starting membraned"):
            daemon = LocalMembraned(binary).start()
        try:
            console.say(
                f"\nMembrane: membraned ({binary}) at {daemon.addr}, temporary database",
                0,
                wrap=False,
            )
            with daemon.client() as client:
                typed_memory_story(client, console)
            membrane_autogen_story(daemon.addr, None, console)
        finally:
            daemon.stop()
    except MembraneIntegrationsError as exc:
        console.say(f"\nThe Membrane stories stopped: {exc}", 0)
        return 1
    return 0


def run_demo(
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    backend: Backend = "both",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo's stories; returns the process exit code (0 when every story ran)."""
    console = Console(out=out or sys.stdout, err=err or sys.stderr)
    if base_url is None and api_key is None:
        base_url = os.environ.get("MEMBRAIN_BASE_URL") or None
        api_key = os.environ.get("MEMBRAIN_API_KEY") or None
        if not (base_url and api_key):
            base_url = api_key = None
    if bool(base_url) != bool(api_key):
        console.say("give both --base-url and --api-key to use a hosted Membrain (or neither)", 0)
        return 2
    status = 0
    if backend in ("membrain", "both"):
        status = _membrain(base_url, api_key, console)
    if backend in ("membrane", "both"):
        status = max(status, _membrane(console, required=backend == "membrane"))
    console.say("\nDone." if status == 0 else "\nDone, with errors (see above).", 0)
    return status
