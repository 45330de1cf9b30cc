"""The command line: ``python -m membrane_integrations {demo,emulator,mcp}``.

Example:
    >>> build_parser().parse_args(["emulator", "--port", "0"]).port
    0
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence

from .mcp.cli import add_mcp_parser, run_mcp

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m membrane_integrations",
        description=(
            "Long-term memory for LangChain, AutoGen and Microsoft Agent Framework agents "
            "(Membrain, Membrane)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a short readable tour (in-process emulator by default)")
    demo.add_argument(
        "--backend",
        choices=["membrain", "membrane", "both"],
        default="both",
        help="which stories to run (default both; Membrane ones need membraned installed)",
    )
    demo.add_argument("--base-url", help="a hosted Membrain (default: MEMBRAIN_BASE_URL)")
    demo.add_argument("--api-key", help="its API key (default: MEMBRAIN_API_KEY)")

    emu = sub.add_parser(
        "emulator",
        help="serve a Membrain-compatible emulator (development, tests, demos; not production)",
    )
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    emu.add_argument("--db", help="SQLite file to keep data (default: in memory)")
    emu.add_argument(
        "--api-key",
        action="append",
        default=[],
        help="an accepted key, repeatable; also MEMBRAIN_EMULATOR_KEYS=k1,k2 (default: generated)",
    )
    emu.add_argument("--tls-certfile")
    emu.add_argument("--tls-keyfile")
    emu.add_argument("--log-level", default="info")
    emu.add_argument(
        "--embedder",
        choices=["auto", "wordllama", "hashing"],
        default="auto",
        help="auto (default): WordLlama, semantic and offline, when installed, else hashing",
    )
    emu.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="largest request body accepted, 413 beyond (default 8 MiB)",
    )
    faults = emu.add_argument_group(
        "fault injection (off by default; the rates below need --fault-injection)"
    )
    faults.add_argument(
        "--fault-injection",
        action="store_true",
        default=_env_flag("MEMBRAIN_EMULATOR_FAULT_INJECTION"),
        help="serve /_emulator/faults and inject faults (also MEMBRAIN_EMULATOR_FAULT_INJECTION=1)",
    )
    faults.add_argument("--error-rate", type=float, default=0.0, help="fraction answered 500")
    faults.add_argument("--unavailable-rate", type=float, default=0.0, help="fraction 503")
    faults.add_argument("--rate-limit-rate", type=float, default=0.0, help="fraction 429")
    faults.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds")
    faults.add_argument("--delay-rate", type=float, default=0.0, help="fraction delayed")
    faults.add_argument("--delay-ms", type=int, default=0)
    faults.add_argument("--truncate-rate", type=float, default=0.0, help="fraction cut off")
    faults.add_argument("--job-failure-rate", type=float, default=0.0, help="ingest jobs failed")
    faults.add_argument(
        "--synthesis-failure-rate", type=float, default=0.0, help="interpreted_error instead"
    )
    faults.add_argument(
        "--fault-phase",
        choices=["before", "after"],
        default="before",
        help="error before the route runs, or after it (the write happened)",
    )
    faults.add_argument("--fault-seed", type=int)
    quotas = emu.add_argument_group("quotas for every tenant (off by default)")
    quotas.add_argument("--memory-cap", type=int, help="403 TIER_MEMORY_CAP_REACHED beyond it")
    quotas.add_argument("--weekly-creates", type=int, help="429 TIER_WEEKLY_QUOTA_REACHED")

    add_mcp_parser(sub)  # mcp membrain|membrane: the memory tools over MCP (the mcp extra)
    return parser


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


_FAULT_FLAGS = (
    "error_rate",
    "unavailable_rate",
    "rate_limit_rate",
    "delay_rate",
    "truncate_rate",
    "job_failure_rate",
    "synthesis_failure_rate",
)


def _keys(given: Sequence[str]) -> list[str]:
    env = [k.strip() for k in os.environ.get("MEMBRAIN_EMULATOR_KEYS", "").split(",")]
    return [k for k in [*given, *env] if k]


def _serve(args: argparse.Namespace) -> int:
    from .emulator import FaultConfig, Limits, MembrainEmulator, QuotaConfig

    asked = [f"--{f.replace('_', '-')}" for f in _FAULT_FLAGS if getattr(args, f)]
    if asked and not args.fault_injection:
        print(f"{', '.join(asked)} need --fault-injection", file=sys.stderr)
        return 2
    keys = _keys(args.api_key)
    limits = Limits() if args.max_body_bytes is None else Limits(max_body_bytes=args.max_body_bytes)
    emulator = MembrainEmulator(
        keys or None,
        db_path=args.db,
        embedder=args.embedder,
        host=args.host,
        port=args.port,
        tls_certfile=args.tls_certfile,
        tls_keyfile=args.tls_keyfile,
        log_level=args.log_level,
        limits=limits,
        fault_injection=args.fault_injection,
        faults=None
        if not args.fault_injection
        else FaultConfig(
            error_rate=args.error_rate,
            unavailable_rate=args.unavailable_rate,
            rate_limit_rate=args.rate_limit_rate,
            retry_after=args.retry_after,
            delay_rate=args.delay_rate,
            delay_ms=args.delay_ms,
            truncate_rate=args.truncate_rate,
            job_failure_rate=args.job_failure_rate,
            synthesis_failure_rate=args.synthesis_failure_rate,
            phase=args.fault_phase,
            seed=args.fault_seed,
        ),
        quotas=QuotaConfig(memory_cap=args.memory_cap, weekly_creates=args.weekly_creates),
    )
    emulator.start()
    print(f"Membrain emulator listening on {emulator.url}  (API under {emulator.url}/api/v1)")
    print(f"OpenAPI: {emulator.url}/docs and {emulator.url}/redoc")
    if keys:
        print(f"API keys: {len(keys)} given (--api-key / MEMBRAIN_EMULATOR_KEYS)")
    else:
        print(f"API key: {emulator.api_key}")
    # A generated key is this emulator's own development key, shown so it can be used; keys
    # the operator gave are not echoed into logs.
    shown = "<one of your --api-key values>" if keys else emulator.api_key
    print("Point a client at it:")
    print(f"  export MEMBRAIN_BASE_URL={emulator.url}")
    print(f"  export MEMBRAIN_API_KEY={shown}")
    if args.fault_injection:
        print("Fault injection is ON: any key can change it at /_emulator/faults")
    print(f"Embedder: {emulator.embedder_description}")
    print("For development, tests and demos on one machine; use the hosted Membrain in production.")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        emulator.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m membrane_integrations`` and ``membrane-integrations``."""
    args = build_parser().parse_args(argv)
    if args.command == "emulator":
        return _serve(args)
    if args.command == "mcp":
        return run_mcp(args)
    from ._extras import requires_extra

    with requires_extra("demo"):  # the stories import their frameworks when they run
        from .demo import run_demo

        return run_demo(args.base_url, args.api_key, backend=args.backend)


if __name__ == "__main__":
    sys.exit(main())
