"""``make membraned``: find or build the real daemon once and record the outcome for the tests.

Resolution is the package launcher's (``membrane_integrations.membrane._daemon_build``):
``MEMBRANED_BIN``, a cached build keyed by the hash of ``MEMBRANED_SOURCE``, ``go build`` from
it, then ``go install``. The outcome goes to ``.cache/membraned.json``; ``require_daemon()``
reads it. This script exits non-zero only under ``CI=true`` with Go present and no daemon, so a
broken build stops ``make test`` before pytest with the real error.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from membrane_integrations.membrane._daemon_build import (
    MembranedNotFoundError,
    resolve_membraned,
    status_file,
)

ROOT = Path(__file__).resolve().parents[2]
# The launcher reads the same file (a clean environment finds the recorded binary).
STATUS_FILE = status_file()


def main() -> int:
    STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        found = resolve_membraned()
    except MembranedNotFoundError as exc:
        state = "no-go" if exc.no_go else "failed"
        STATUS_FILE.write_text(json.dumps({"state": state, "reason": str(exc)}, indent=2))
        print(f"membraned: {state}: {exc}", file=sys.stderr)
        fatal = state == "failed" and os.environ.get("CI") == "true" and shutil.which("go")
        return 1 if fatal else 0
    status = {"state": "ok", "path": found.path, "how": found.how, "detail": found.detail}
    STATUS_FILE.write_text(json.dumps(status, indent=2))
    print(f"membraned: ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
