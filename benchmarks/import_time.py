"""What importing our modules costs on top of the framework each one plugs into.

Run ``python benchmarks/import_time.py`` (``--repeat N``, default 9; ``--quick`` for 3). For each
of ``membrane_integrations``, ``.membrain``, ``.membrane``, ``.langchain`` and ``.autogen`` a fresh
interpreter first imports the framework alone (the modules a user of that framework already has
loaded: httpx and pydantic; grpc and protobuf; the langchain_core modules our tools, retriever and
toolkit derive from; autogen_core and its memory module), then our module, timing both. The rounds
are interleaved across modules and the medians printed: "ours added" is the time of our import
with the framework already loaded, i.e. what our code costs. "ours cold" is our module imported
into an empty interpreter, framework included. The third-party packages our import pulled in
beyond the framework are listed, so a heavy dependency cannot hide. Figures are printed, never
asserted; the aim (issue 8) is under 50 ms added per module.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass

AIM_MS = 50.0

PROBE = r"""
import importlib, json, sys, time
framework = [m for m in sys.argv[1].split(",") if m]
ours = sys.argv[2]
t0 = time.perf_counter()
for name in framework:
    importlib.import_module(name)
t1 = time.perf_counter()
before = {m.split(".")[0] for m in sys.modules}
importlib.import_module(ours)
t2 = time.perf_counter()
skip = set(sys.stdlib_module_names) | before | {"membrane_integrations"}
pulled = sorted({m.split(".")[0] for m in sys.modules} - skip)
pulled = [m for m in pulled if not m.startswith("_")]
print(json.dumps({"framework_ms": (t1 - t0) * 1e3, "ours_ms": (t2 - t1) * 1e3, "pulled": pulled}))
"""


@dataclass(frozen=True)
class Case:
    """One module of ours and the framework modules it is measured against."""

    module: str
    framework: tuple[str, ...]
    framework_label: str


CASES = (
    Case("membrane_integrations", (), "nothing (bare interpreter)"),
    Case(
        "membrane_integrations.membrain",
        ("httpx", "pydantic.main", "pydantic.type_adapter"),
        "httpx + pydantic (BaseModel, TypeAdapter)",
    ),
    Case(
        "membrane_integrations.membrane",
        ("grpc", "grpc.aio", "google.protobuf.message"),
        "grpc + protobuf",
    ),
    Case(
        "membrane_integrations.langchain",
        (
            "langchain_core.tools",
            "langchain_core.retrievers",
            "langchain_core.documents",
            "langchain_core.callbacks",
        ),
        "langchain_core (tools, retrievers, documents, callbacks)",
    ),
    Case(
        "membrane_integrations.autogen",
        ("autogen_core", "autogen_core.memory"),
        "autogen_core (+ memory)",
    ),
)


def probe(framework: tuple[str, ...], module: str) -> dict[str, object]:
    """Import ``framework`` then ``module`` in a fresh interpreter; the timings and new packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPROFILE")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(framework), module],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="3 repetitions")
    args = parser.parse_args()
    repeat = 3 if args.quick else max(1, args.repeat)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"{repeat} fresh interpreters per figure, medians"
    )
    for case in CASES:  # once untimed, so that every .pyc exists before the timed rounds
        probe(case.framework, case.module)
    added: dict[str, list[float]] = {c.module: [] for c in CASES}
    framework: dict[str, list[float]] = {c.module: [] for c in CASES}
    cold: dict[str, list[float]] = {c.module: [] for c in CASES}
    pulled: dict[str, object] = {}
    for _ in range(repeat):
        for case in CASES:
            warm = probe(case.framework, case.module)
            added[case.module].append(float(warm["ours_ms"]))  # type: ignore[arg-type]
            framework[case.module].append(float(warm["framework_ms"]))  # type: ignore[arg-type]
            pulled[case.module] = warm["pulled"]
            alone = probe((), case.module)
            cold[case.module].append(float(alone["ours_ms"]))  # type: ignore[arg-type]

    print(
        f"\n{'module':<34} {'framework ms':>12} {'ours added ms':>13} {'ours cold ms':>12}  "
        "framework / packages ours pulled in beyond it"
    )
    for case in CASES:
        ours_ms = statistics.median(added[case.module])
        mark = "" if ours_ms < AIM_MS else f"  (over the {AIM_MS:.0f} ms aim)"
        extra = ", ".join(pulled[case.module]) or "none"  # type: ignore[arg-type]
        print(
            f"{case.module:<34} {statistics.median(framework[case.module]):12.1f} "
            f"{ours_ms:13.1f} {statistics.median(cold[case.module]):12.1f}  "
            f"{case.framework_label} / {extra}{mark}"
        )
    print(
        f"\naim: ours added < {AIM_MS:.0f} ms per module (printed, never asserted); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
