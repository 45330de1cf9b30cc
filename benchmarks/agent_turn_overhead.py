"""What long-term memory costs an agent's reply, with the backend healthy, slowed or hung.

Run ``python benchmarks/agent_turn_overhead.py`` (``--turns N``, default 12; ``--delay S``,
default 2.0; ``--rounds R``, default 3; ``--backends membrain,membrane``). A scripted LangChain
agent (no model time, an ``InMemorySaver`` checkpointer) plays one synthetic conversation
(statements, questions, greetings and thanks, nothing from any benchmark data set) for each
backend and condition, the conditions interleaved round by round:

* ``off``: no memory middleware (the baseline of every ratio);
* ``normal``: the middleware on the backend directly (the emulator / membraned on loopback);
* ``delayed``: every request reaches the backend ``--delay`` seconds late (a loopback proxy,
  ``tests/support/slow_proxy.py``; it works for HTTP and gRPC alike);
* ``hung``: the proxy swallows every request, so no reply ever comes.

For each it prints the reply latency (``invoke`` wall time) p50 / p95 and their excess over
``off``, the checkpoint bytes written per turn (what ``InMemorySaver`` serialised), and, after
``close()``, what reached the backend: the share of the conversation's statements stored,
duplicates, questions stored, and the writes ``close()`` reported as not written. The aims
(issue 28): reply p95 with memory on <= off + ``recall_timeout`` + 5 ms when the backend is
slowed or hung, <= off + 5 ms + one recall round trip when healthy; after close, 100 % of the
statements on a slowed backend, 0 duplicates, 0 questions. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from membrane_integrations.core.notes import statements  # noqa: E402
from membrane_integrations.emulator import MembrainEmulator  # noqa: E402
from membrane_integrations.testing import ScriptedChatModel  # noqa: E402
from tests.support.slow_proxy import SlowProxy  # noqa: E402

RECALL_TIMEOUT = 0.5
# A synthetic conversation: what a user tells an assistant over a few sessions.
SCRIPT = [
    "Hi there!",
    "I am vegetarian and I cook most evenings.",
    "What should I make for dinner tonight?",
    "Thanks!",
    "My daughter Mia starts school in September.",
    "Do you remember what I eat?",
    "I switched jobs: I now work as a nurse at the city hospital.",
    "Where do I work?",
    "OK, got it.",
    "I am allergic to peanuts.",
    "Can you suggest a snack?",
    "We adopted a grey cat called Pixel last spring.",
]
STATEMENTS = [s for s in SCRIPT if statements(s) is not None]
QUESTIONS = [s for s in SCRIPT if s.rstrip().endswith("?")]


class CountingSaver(InMemorySaver):
    """An ``InMemorySaver`` that counts the bytes it serialises (checkpoints and writes)."""

    written = 0

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        # what InMemorySaver stores: the checkpoint without its values, then each new value
        values = checkpoint["channel_values"]
        frame = {k: v for k, v in checkpoint.items() if k != "channel_values"}
        self.written += len(self.serde.dumps_typed(frame)[1])
        for channel in new_versions:
            if channel in values:
                self.written += len(self.serde.dumps_typed(values[channel])[1])
        return super().put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.written += sum(len(self.serde.dumps_typed(value)[1]) for _, value in writes)
        super().put_writes(config, writes, task_id, task_path)


@dataclass
class Result:
    backend: str
    condition: str
    latencies: list[float]
    checkpoint_bytes: float
    stored: list[str] | None = None
    unwritten: int = 0
    close_s: float = 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_conversation(middleware: Any | None, turns: int) -> tuple[list[float], float]:
    saver = CountingSaver()
    model = ScriptedChatModel(responses=["Sure."] * (turns * 2))
    agent = create_agent(model, middleware=[middleware] if middleware else [], checkpointer=saver)
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    latencies = []
    for text in (SCRIPT * (turns // len(SCRIPT) + 1))[:turns]:
        start = time.perf_counter()
        agent.invoke({"messages": [HumanMessage(text)]}, config)
        latencies.append(time.perf_counter() - start)
    return latencies, saver.written / turns


@dataclass
class Backend:
    name: str
    upstream: tuple[str, int]
    build: Callable[[str | None, str, float], tuple[Any, Any]]  # (addr, container, write_timeout)
    stored: Callable[[str], list[str]]
    recall_round_trip: Callable[[str], float]


@contextmanager
def membrain_backend() -> Iterator[Backend]:
    from membrane_integrations.langchain import MembrainMemoryMiddleware
    from membrane_integrations.membrain import MembrainClient
    from membrane_integrations.membrain.tenancy import Tenancy, container_filter

    with MembrainEmulator() as emu, emu.client() as reader:
        url = urlsplit(emu.url)

        def build(addr: str | None, container: str, write_timeout: float) -> tuple[Any, Any]:
            client = MembrainClient(emu.api_key, base_url=f"http://{addr}" if addr else emu.url)
            memory = MembrainMemoryMiddleware(
                client=client,
                container=container,
                recall_timeout=RECALL_TIMEOUT,
                write_timeout=write_timeout,
                flush_timeout=120.0,
            )
            return memory, client

        def stored(container: str) -> list[str]:
            page = reader.search("*", k=100, scope=[container_filter(container)])
            return [node.content for node in page.nodes]

        def round_trip(container: str) -> float:
            scope = Tenancy(container).read_scope(None)
            times = []
            for _ in range(20):
                start = time.perf_counter()
                reader.search("what do I eat?", k=5, scope=scope, response_format="raw")
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        yield Backend(
            "membrain", (url.hostname or "127.0.0.1", url.port or 80), build, stored, round_trip
        )


@contextmanager
def membrane_backend() -> Iterator[Backend]:
    from membrane_integrations.langchain import MembraneMemoryMiddleware
    from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
    from membrane_integrations.membrane.daemon import LocalMembraned, find_membraned
    from membrane_integrations.membrane.recall import record_text

    with (
        LocalMembraned(find_membraned(build=False, quiet=True)) as daemon,
        MembraneClient(daemon.addr) as reader,
    ):
        host, port = daemon.addr.rsplit(":", 1)

        def build(addr: str | None, container: str, write_timeout: float) -> tuple[Any, Any]:
            client = MembraneClient(addr or daemon.addr)  # timeout None: the client's default
            memory = MembraneMemoryMiddleware(
                client=client,
                container=container,
                recall_timeout=RECALL_TIMEOUT,
                write_timeout=write_timeout,
                flush_timeout=120.0,
            )
            return memory, client

        def records(container: str, limit: int) -> list[Any]:
            trust = TrustContext(max_sensitivity=Sensitivity.HYPER, scopes=[container])
            found = reader.retrieve("what do I eat?", trust=trust, limit=limit)
            return [r for r in found if r.scope == container and r.salience > 0]

        def stored(container: str) -> list[str]:
            texts = (record_text(r) for r in records(container, 0))
            return [t.split(": ", 1)[-1] for t in texts if t]

        def round_trip(container: str) -> float:
            times = []
            for _ in range(20):
                start = time.perf_counter()
                records(container, 20)
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        yield Backend("membrane", (host, int(port)), build, stored, round_trip)


def measure(backend: Backend, turns: int, delay: float, rounds: int) -> tuple[list[Result], float]:
    """``rounds`` rounds, each playing every condition once (interleaved), a fresh container
    per round and condition; latencies pooled, what reached the backend summed."""
    run_conversation(None, 2)  # warm-up: imports and graph compilation are nobody's cost
    results = {c: Result(backend.name, c, [], 0.0) for c in ("off", "normal", "delayed", "hung")}
    for round_no in range(rounds):
        latencies, per_turn = run_conversation(None, turns)
        results["off"].latencies += latencies
        results["off"].checkpoint_bytes += per_turn / rounds
        for condition in ("normal", "delayed", "hung"):
            container = f"bench-{condition}-{uuid.uuid4().hex[:6]}"
            write_timeout = 1.0 if condition == "hung" else 60.0
            proxy = None
            if condition != "normal":
                mode = "delay" if condition == "delayed" else "hang"
                proxy = SlowProxy(backend.upstream, mode=mode, delay_s=delay)
            try:
                addr = proxy.addr if proxy else None
                memory, client = backend.build(addr, container, write_timeout)
                latencies, per_turn = run_conversation(memory, turns)
                start = time.perf_counter()
                unwritten = memory.close()
                close_s = time.perf_counter() - start
                client.close()
            finally:
                if proxy is not None:
                    proxy.close()
            result = results[condition]
            result.latencies += latencies
            result.checkpoint_bytes += per_turn / rounds
            result.stored = (result.stored or []) + [
                f"{round_no}\t{text}" for text in backend.stored(container)
            ]
            result.unwritten += len(unwritten)
            result.close_s = max(result.close_s, close_s)
    return list(results.values()), backend.recall_round_trip(container)


def report(results: list[Result], round_trip: float, turns: int, rounds: int) -> None:
    said = (SCRIPT * (turns // len(SCRIPT) + 1))[:turns]
    expected = sorted({s for s in said if statements(s) is not None})
    questions = {s for s in said if s.rstrip().endswith("?")}
    off = results[0]
    base50, base95 = _pct(off.latencies, 0.5), _pct(off.latencies, 0.95)
    print(
        f"\n== {off.backend}: {rounds} x {turns} turns, recall_timeout {RECALL_TIMEOUT}s, "
        f"recall round trip (p50) {round_trip * 1000:.1f} ms"
    )
    print(
        f"{'condition':<9} {'p50 ms':>8} {'p95 ms':>8} {'+p50 ms':>8} {'+p95 ms':>8} "
        f"{'ckpt B/turn':>11} {'stored':>8} {'dups':>5} {'questions':>9} {'unwritten':>9} "
        f"{'close s':>8}"
    )
    for r in results:
        p50, p95 = _pct(r.latencies, 0.5), _pct(r.latencies, 0.95)
        if r.stored is None:
            stored = dups = qs = "-"
        else:
            got = set(r.stored)
            texts = [entry.split("\t", 1)[1] for entry in got]
            share = sum(t in expected for t in texts) / (len(expected) * rounds)
            stored = f"{100 * share:.0f}%"
            dups = str(len(r.stored) - len(got))
            qs = str(sum(t in questions for t in texts))
        print(
            f"{r.condition:<9} {p50 * 1000:>8.1f} {p95 * 1000:>8.1f} "
            f"{(p50 - base50) * 1000:>8.1f} {(p95 - base95) * 1000:>8.1f} "
            f"{r.checkpoint_bytes:>11.0f} {stored:>8} {dups:>5} {qs:>9} "
            f"{'-' if r.stored is None else r.unwritten:>9} "
            f"{'-' if r.stored is None else f'{r.close_s:.1f}':>8}"
        )
    normal = results[1]
    print(
        f"checkpoint bytes per turn, memory on / off: "
        f"{normal.checkpoint_bytes / off.checkpoint_bytes:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=len(SCRIPT))
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="membrain,membrane")
    args = parser.parse_args()
    for name in args.backends.split(","):
        maker = {"membrain": membrain_backend, "membrane": membrane_backend}[name]
        try:
            context = maker()
            backend = context.__enter__()
        except Exception as exc:
            print(f"\n== {name}: skipped ({type(exc).__name__}: {exc})")
            continue
        try:
            results, round_trip = measure(backend, args.turns, args.delay, args.rounds)
            report(results, round_trip, args.turns, args.rounds)
        finally:
            context.__exit__(None, None, None)


if __name__ == "__main__":
    main()
