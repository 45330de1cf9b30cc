"""What importing our modules costs on top of the framework each one plugs into, and the first call.

Run ``python benchmarks/import_time.py`` (``--repeat N``, default 9; ``--quick`` for 3;
``--no-daemon`` to leave out the Membrane first calls). Each figure comes from a fresh
interpreter that first imports the framework alone (what a user of that framework already has
loaded: httpx and pydantic; grpc and protobuf; the langchain_core modules our tools and retrievers
derive from; autogen_core and its memory module), then our module **and the public names a user
imports from it** (``from membrane_integrations.langchain import MembrainToolkit,
MembrainRetriever``: a package whose names load on first access cannot hide their cost), timing
both. Then it builds a
client and makes one call, twice:

* ``ours added``: the import of our module and names with the framework loaded: what our code costs
  at import (aim: under 50 ms);
* ``first call``: building the client (or tool, retriever, memory) and its first call, in the same
  interpreter right after the import; ``2nd call``: the same call again. The difference is what the
  first call pays for work deferred from import time (models built on first use, httpx imported by
  the first client), plus connection set-up;
* ``ours cold``: our module and names imported into an empty interpreter, framework included.

The Membrain calls go to the fixed-reply server of ``vs_peers.py`` (``_serve.py fixed``, its own
process, plain HTTP on 127.0.0.1); the Membrane calls to a real membraned started by
``LocalMembraned`` with 5 stored records (found by ``find_membraned``; none: those calls are not
measured and the table says so). The rounds are interleaved across cases and the medians printed.
The third-party packages our import pulled in beyond the framework are listed, so a heavy
dependency cannot hide. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

AIM_MS = 50.0
HERE = Path(__file__).resolve().parent

PROBE = r"""
import importlib, json, os, sys, time
spec = json.loads(sys.argv[1])
t0 = time.perf_counter()
for name in spec["framework"]:
    importlib.import_module(name)
t1 = time.perf_counter()
before = {m.split(".")[0] for m in sys.modules}
module = importlib.import_module(spec["module"])
scope = {name: getattr(module, name) for name in spec["names"]}
t2 = time.perf_counter()
skip = set(sys.stdlib_module_names) | before | {"membrane_integrations"}
pulled = sorted({m.split(".")[0] for m in sys.modules} - skip)
pulled = [m for m in pulled if not m.startswith("_")]
out = {"framework_ms": (t1 - t0) * 1e3, "ours_ms": (t2 - t1) * 1e3, "pulled": pulled}
if spec["call"] and spec["target"] in os.environ:
    scope["TARGET"] = os.environ[spec["target"]]
    scope["KEY"] = os.environ.get("BENCH_KEY", "")
    t3 = time.perf_counter()
    exec(spec["setup"], scope)
    exec(spec["call"], scope)
    t4 = time.perf_counter()
    exec(spec["call"], scope)
    t5 = time.perf_counter()
    out["first_ms"] = (t4 - t3) * 1e3
    out["second_ms"] = (t5 - t4) * 1e3
print(json.dumps(out))
os._exit(0)  # no interpreter tear-down: clients are left open on purpose
"""

HTTPX = ("httpx", "pydantic.main", "pydantic.type_adapter")
GRPC = ("grpc", "grpc.aio", "google.protobuf.message")
LANGCHAIN = (
    "langchain_core.tools",
    "langchain_core.retrievers",
    "langchain_core.documents",
    "langchain_core.callbacks",
)
AUTOGEN = ("autogen_core", "autogen_core.memory")
MEMBRAIN_CLIENT = (
    "from membrane_integrations.membrain import MembrainClient\n"
    "client = MembrainClient(KEY, base_url=TARGET)\n"
)
LOOP = "import asyncio\nloop = asyncio.new_event_loop()\n"


@dataclass(frozen=True)
class Case:
    """One module of ours, the names a user imports from it and one call through them."""

    label: str
    module: str
    names: tuple[str, ...]
    framework: tuple[str, ...]
    framework_label: str
    target: str = ""  # "MEMBRAIN_URL" or "MEMBRANE_ADDR": which server the call needs
    setup: str = ""
    call: str = ""

    def spec(self) -> str:
        return json.dumps(
            {
                "framework": self.framework,
                "module": self.module,
                "names": self.names,
                "target": self.target,
                "setup": self.setup,
                "call": self.call,
            }
        )


CASES = (
    Case("membrane_integrations", "membrane_integrations", (), (), "nothing (bare interpreter)"),
    Case(
        ".membrain",
        "membrane_integrations.membrain",
        ("MembrainClient",),
        HTTPX,
        "httpx + pydantic",
        "MEMBRAIN_URL",
        "client = MembrainClient(KEY, base_url=TARGET)\n",
        "client.search('tea', k=5, scope=['container\\\\.bench'])\n",
    ),
    Case(
        ".membrane",
        "membrane_integrations.membrane",
        ("MembraneClient", "MemoryRecord"),
        GRPC,
        "grpc + protobuf",
        "MEMBRANE_ADDR",
        "client = MembraneClient(TARGET)\n",
        "client.retrieve('tea', limit=5)\n",
    ),
    Case(
        ".langchain (Membrain)",
        "membrane_integrations.langchain",
        ("MembrainToolkit", "MembrainRetriever"),
        LANGCHAIN,
        "langchain_core (tools, retrievers, documents, callbacks)",
        "MEMBRAIN_URL",
        MEMBRAIN_CLIENT + "retriever = MembrainRetriever(client=client, container='bench', k=5)\n",
        "retriever.invoke('tea')\n",
    ),
    Case(
        ".langchain (Membrane)",
        "membrane_integrations.langchain",
        ("MembraneToolkit", "MembraneRetriever"),
        LANGCHAIN + GRPC,
        "langchain_core + grpc + protobuf",
        "MEMBRANE_ADDR",
        "from membrane_integrations.membrane import MembraneClient\n"
        "retriever = MembraneRetriever(client=MembraneClient(TARGET), k=5)\n",
        "retriever.invoke('tea')\n",
    ),
    Case(
        ".autogen (Membrain)",
        "membrane_integrations.autogen",
        ("MembrainMemory", "MembrainMemoryConfig"),
        AUTOGEN,
        "autogen_core (+ memory)",
        "MEMBRAIN_URL",
        LOOP + "from pydantic import SecretStr\n"
        "memory = MembrainMemory(MembrainMemoryConfig(container='bench', base_url=TARGET,"
        " api_key=SecretStr(KEY)))\n",
        "loop.run_until_complete(memory.query('tea'))\n",
    ),
    Case(
        ".autogen (Membrane)",
        "membrane_integrations.autogen",
        ("MembraneMemory", "MembraneMemoryConfig"),
        AUTOGEN + GRPC,
        "autogen_core + grpc + protobuf",
        "MEMBRANE_ADDR",
        LOOP + "memory = MembraneMemory(MembraneMemoryConfig(container='bench', addr=TARGET))\n",
        "loop.run_until_complete(memory.query('tea'))\n",
    ),
)


def probe(case: Case, env: dict[str, str], *, with_framework: bool = True) -> dict[str, object]:
    """Run one case in a fresh interpreter; its timings and the packages it pulled in."""
    spec = case.spec()
    if not with_framework:
        spec = json.dumps(json.loads(spec) | {"framework": [], "call": ""})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, spec],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{case.label} failed:\n{done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


@contextmanager
def fixed_server() -> Iterator[tuple[str, str]]:
    """The fixed-reply Membrain server in its own process: ``(url, api_key)``."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_serve.py"), "fixed"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield info["url"], info["api_key"]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


@contextmanager
def seeded_daemon(stack: ExitStack) -> Iterator[str | None]:
    """A real membraned with 5 stored records (its address), or ``None`` when none is found."""
    from membrane_integrations.membrane import MembraneClient
    from membrane_integrations.membrane.daemon import LocalMembraned, find_membraned

    binary = find_membraned(build=False, quiet=True)
    if binary is None:
        yield None
        return
    daemon = stack.enter_context(LocalMembraned(binary))
    with MembraneClient(daemon.addr) as client:
        for i in range(5):
            client.ingest_observation("user", "drinks", f"green tea, cup {i}", scope="bench")
    yield daemon.addr


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="3 repetitions")
    parser.add_argument("--no-daemon", action="store_true", help="no Membrane first calls")
    args = parser.parse_args()
    repeat = 3 if args.quick else max(1, args.repeat)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"{repeat} fresh interpreters per figure, medians"
    )
    # Bytecode is written and used, as after ``pip install``: a shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise have every probe compile our modules afresh.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHONPROFILE") and k != "PYTHONDONTWRITEBYTECODE"
    }
    with ExitStack() as stack:
        url, key = stack.enter_context(fixed_server())
        env |= {"MEMBRAIN_URL": url, "BENCH_KEY": key}
        addr = None if args.no_daemon else stack.enter_context(seeded_daemon(stack))
        if addr is not None:
            env["MEMBRANE_ADDR"] = addr
        for case in CASES:  # once untimed, so that every .pyc exists before the timed rounds
            probe(case, env)
        rows: dict[str, dict[str, list[float]]] = {
            c.label: {"added": [], "framework": [], "cold": [], "first": [], "second": []}
            for c in CASES
        }
        pulled: dict[str, list[str]] = {}
        for _ in range(repeat):
            for case in CASES:
                row = rows[case.label]
                warm = probe(case, env)
                row["added"].append(float(warm["ours_ms"]))  # type: ignore[arg-type]
                row["framework"].append(float(warm["framework_ms"]))  # type: ignore[arg-type]
                if "first_ms" in warm:
                    row["first"].append(float(warm["first_ms"]))  # type: ignore[arg-type]
                    row["second"].append(float(warm["second_ms"]))  # type: ignore[arg-type]
                pulled[case.label] = warm["pulled"]  # type: ignore[assignment]
                alone = probe(case, env, with_framework=False)
                row["cold"].append(float(alone["ours_ms"]))  # type: ignore[arg-type]

    print(
        f"\n{'case':<24} {'framework':>9} {'ours added':>10} {'first call':>10} {'2nd call':>8} "
        f"{'ours cold':>9}  (ms)  framework / packages ours pulled in beyond it"
    )
    for case in CASES:
        row = rows[case.label]
        ours_ms = statistics.median(row["added"])
        mark = "" if ours_ms < AIM_MS else f"  (over the {AIM_MS:.0f} ms aim)"
        extra = ", ".join(pulled[case.label]) or "none"
        first = median(row["first"]) if case.call else ""
        if case.call and not row["first"]:
            first = "no daemon"
        print(
            f"{case.label:<24} {median(row['framework']):>9} {ours_ms:10.1f} {first:>10} "
            f"{median(row['second']) if row['second'] else '':>8} {median(row['cold']):>9}  "
            f"{case.framework_label} / {extra}{mark}"
        )
    print(
        "\nnames imported: "
        + "; ".join(f"{c.label}: {', '.join(c.names) or '-'}" for c in CASES)
        + f"\naim: ours added < {AIM_MS:.0f} ms per module (printed, never asserted); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
