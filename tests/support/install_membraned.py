"""Install the real Membrane daemon (membraned v0.2.0) with Go, cached in .cache/bin.

Run by ``make test`` before pytest. It never fails the build itself: it writes what happened
to ``.cache/membraned.json`` and the live tests decide (skip when Go is absent or the module
registry refuses the module, fail under ``CI=true`` for any other reason).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

MODULE = "github.com/GustyCube/membrane/cmd/membraned@v0.2.0"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
BIN_DIR = CACHE / "bin"
STATUS_FILE = CACHE / "membraned.json"

# Answers from the module proxy that mean "this module is not to be had here", as opposed to a
# build or toolchain failure that a developer must fix.
_REFUSALS = ("403 Forbidden", "404 Not Found", "410 Gone", "not available", "unknown revision")


def _write(status: dict[str, str]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    STATUS_FILE.write_text(json.dumps(status, indent=2))


def main() -> int:
    explicit = os.environ.get("MEMBRANED_BIN")
    if explicit and Path(explicit).is_file():
        _write({"state": "ok", "path": explicit})
        print(f"membraned: using MEMBRANED_BIN={explicit}")
        return 0
    cached = BIN_DIR / "membraned"
    if cached.is_file():
        _write({"state": "ok", "path": str(cached)})
        print(f"membraned: cached at {cached}")
        return 0
    go = shutil.which("go")
    if go is None:
        _write({"state": "no-go", "reason": "Go is not installed on this machine"})
        print("membraned: Go is not installed; tests that need the daemon will be skipped")
        return 0
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOBIN=str(BIN_DIR), CGO_ENABLED="1")
    print(f"membraned: go install {MODULE}")
    try:
        proc = subprocess.run(
            [go, "install", MODULE], env=env, capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        _write({"state": "failed", "reason": "go install timed out after 900 s"})
        print("membraned: go install timed out")
        return 0
    if proc.returncode == 0 and cached.is_file():
        _write({"state": "ok", "path": str(cached)})
        print(f"membraned: installed at {cached}")
        return 0
    error = (proc.stderr or proc.stdout).strip()
    state = "unavailable" if any(r in error for r in _REFUSALS) else "failed"
    _write({"state": state, "reason": f"go install {MODULE} failed: {error}"})
    print(f"membraned: {state}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
