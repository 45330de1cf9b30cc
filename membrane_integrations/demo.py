"""``python -m membrane_integrations demo``: a short, readable tour of Membrain.

By default it runs against an in-process emulator (no key, no network). With ``--base-url`` and
``--api-key`` (or ``MEMBRAIN_BASE_URL`` / ``MEMBRAIN_API_KEY``) it runs against a hosted
Membrain; its memories carry a one-off ``container.demo-<random>`` token and are deleted at the end.

Each story is a function taking the client and a printer, so later stories can be added here.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> run_demo(out=out)
    0
    >>> "interpreted" in out.getvalue()
    True
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import TextIO

from .core.errors import MembraneIntegrationsError
from .core.scope import container_filter, container_token
from .membrain import MembrainClient
from .membrain.models import IngestAccepted, SearchResponse

__all__ = ["FACTS", "run_demo"]

FACTS = (
    "User likes green tea, especially sencha.",
    "User drinks green tea every morning before work.",
    "User is allergic to peanuts.",
    "The team deploys the billing service on Fridays.",
    "The billing service deploy moved to Mondays in March.",
    "User prefers vegetarian restaurants near the office.",
)
QUESTION = "What drinks does the user like?"

Print = Callable[[str], None]


def _add_facts(client: MembrainClient, scope: list[str], say: Print, out: TextIO) -> list[str]:
    say("1. Adding atomic facts (ingest is asynchronous: POST, then poll the job)")
    ids: list[str] = []
    for fact in FACTS:
        accepted = client.add(fact, scope=scope, category="demo", wait=False)
        assert isinstance(accepted, IngestAccepted)
        out.write(f"   {fact:<56} ")
        out.flush()
        spinner = "|/-\\"
        deadline = time.monotonic() + 60.0
        tick = 0
        while True:
            job = client.get_job(accepted.job_id)
            if job.done or time.monotonic() > deadline:
                break
            out.write(spinner[tick % 4] + "\b")
            out.flush()
            tick += 1
            time.sleep(0.05)  # a human-paced progress indicator, not a test wait
        if job.result is None:
            message = job.error.message if job.error else job.status
            out.write(f"[{job.status}] {message}\n")
            continue
        ids.append(job.result.memory_id)
        out.write(f"[{job.result.action}] {job.result.memory_id[:8]}\n")
    return ids


def _show(response: SearchResponse, say: Print) -> None:
    for hit in response.results:
        if hit.type == "memory_node":
            say(f"   {hit.semantic_score:5.2f}  memory  {hit.content}")
            for related in hit.related_memories[:2]:
                say(f"                   related: {related.content}")
        else:
            say(f"   {hit.score:5.2f}  edge    {hit.description}")


def _searches(client: MembrainClient, scope: list[str], say: Print) -> str | None:
    say(f"\n2. Search, raw (memory nodes and relationship edges): {QUESTION!r}")
    raw = client.search(QUESTION, k=4, scope=scope)
    _show(raw, say)
    say("\n3. Search with rerank (edges folded onto their memories, nodes only)")
    reranked = client.search(QUESTION, k=3, scope=scope, rerank=True)
    _show(reranked, say)
    say("\n4. Search, interpreted (a synthesis of what was retrieved)")
    answer = client.search(QUESTION, k=4, scope=scope, response_format="interpreted")
    if answer.interpreted is None:
        say(f"   interpreted synthesis failed: {answer.interpreted_error}")
    else:
        block = answer.interpreted
        say(f"   answer:     {block.answer_summary}")
        for fact in block.key_facts[:3]:
            say(f"   key fact:   {fact}")
        for conflict in block.conflicts_or_uncertainties[:2]:
            say(f"   conflict:   {conflict}")
        say(f"   confidence: {block.confidence}")
    return reranked.nodes[0].id if reranked.nodes else None


def _graph(client: MembrainClient, memory_id: str, say: Print) -> None:
    say("\n5. Graph: the neighbourhood of the best hit (2 hops)")
    hood = client.graph_neighborhood(memory_id, hops=2)
    for node in hood.nodes:
        say(f"   distance {node.distance}: {node.content}")
    for edge in hood.edges[:3]:
        say(f"   link: {edge.description}")


def run_demo(
    base_url: str | None = None, api_key: str | None = None, *, out: TextIO | None = None
) -> int:
    """Run the demo; returns the process exit code."""
    stream = out or sys.stdout

    def say(line: str) -> None:
        stream.write(line + "\n")

    base_url = base_url or os.environ.get("MEMBRAIN_BASE_URL")
    api_key = api_key or os.environ.get("MEMBRAIN_API_KEY")
    container = f"demo-{secrets.token_hex(4)}"
    if base_url and api_key:
        say(f"Membrain demo against {base_url} (memories tagged container.{container})")
        with MembrainClient(api_key, base_url=base_url) as client:
            return _run(client, container, say, stream)
    from .emulator import MembrainEmulator

    with MembrainEmulator() as emu:
        say(f"Membrain demo against an in-process emulator at {emu.url}")
        say("(pass --base-url and --api-key to run it against the hosted Membrain)\n")
        with emu.client() as client:
            return _run(client, container, say, stream)


def _run(client: MembrainClient, container: str, say: Print, out: TextIO) -> int:
    scope = [container_filter(container)]
    try:
        ids = _add_facts(client, [container_token(container), "type.demo"], say, out)
        best = _searches(client, scope, say)
        if best is not None:
            _graph(client, best, say)
        stats = client.stats()
        say(f"\n6. Stats: {stats.total_memories} memories, {stats.total_links} links")
    except MembraneIntegrationsError as exc:
        say(f"\nThe demo stopped: {exc}")
        return 1
    finally:
        try:
            client.delete_bulk(scope=scope)
        except MembraneIntegrationsError as exc:
            say(f"(could not clean up the demo memories: {exc})")
    say(f"\nDone: {len(ids)} facts added, searched three ways, one graph call, cleaned up.")
    return 0
