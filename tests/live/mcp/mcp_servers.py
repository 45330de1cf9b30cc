"""Start the MCP server the way an operator does: ``python -m membrane_integrations mcp ...``.

``stdio_params`` describes the subprocess an MCP client spawns over stdio; ``http_server`` starts
it with ``--transport http --port 0`` and waits (with a deadline, no sleep) for the line it prints
once it accepts connections, which carries the port it got.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mcp import StdioServerParameters

from membrane_integrations.mcp.transports import READY_PREFIX

ROOT = Path(__file__).resolve().parents[3]
READY_TIMEOUT = 60.0

__all__ = ["ROOT", "command", "http_server", "server_env", "stdio_params"]


def command(backend: str, container: str, *extra: str) -> list[str]:
    """The arguments after ``python``: ``-m membrane_integrations mcp <backend> ...``."""
    return ["-m", "membrane_integrations", "mcp", backend, "--container", container, *extra]


def server_env(**values: str) -> dict[str, str]:
    """The server's environment: this one (PATH, the venv) without the backends' settings,
    plus ``values`` (keys and addresses come only from here)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MEMBRAIN_", "MEMBRANE_")) and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = str(ROOT)  # this checkout's package, whatever is installed
    env.update(values)
    return env


def stdio_params(
    backend: str, container: str, env: dict[str, str], *extra: str
) -> StdioServerParameters:
    """What an MCP client needs to spawn the server over stdio."""
    return StdioServerParameters(
        command=sys.executable, args=command(backend, container, *extra), env=env, cwd=str(ROOT)
    )


@contextmanager
def http_server(backend: str, container: str, env: dict[str, str], *extra: str) -> Iterator[str]:
    """Run the server over streamable HTTP on a free loopback port; yield its ``/mcp`` URL."""
    args: Sequence[str] = command(backend, container, "--transport", "http", "--port", "0", *extra)
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        url = None
        while url is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the MCP server did not get ready: {''.join(seen)[-2000:]}")
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"the MCP server exited: {''.join(seen)[-2000:]}")
            seen.append(line)
            if line.startswith(READY_PREFIX):
                url = line[len(READY_PREFIX) :].strip()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
