"""Make (once) a throwaway venv holding membrane's reference Python client and print its python.

The reference client (``membrane-client`` 0.2.0, from ``clients/python`` of the membraned source
tree) needs protobuf >= 6.31.1, which the project's own venv cannot hold beside AutoGen
(autogen-core pins protobuf ~= 5.29). Differential tests and the overhead benchmark therefore run
it in its own interpreter, as a subprocess. The venv also gets this project's runtime
dependencies (the base ``dependencies`` of pyproject.toml), so ``PYTHONPATH=<repo root>`` lets
the same process import ``membrane_integrations.membrane`` beside ``membrane``.

Usage::

    python scripts/reference_client_venv.py    # prints the venv's python; builds it if needed

The source is ``$MEMBRANE_REFERENCE_CLIENT``, else ``$MEMBRANED_SOURCE/clients/python``, else
``../shared/upstream/membrane-v0.2.0/clients/python``. The venv lives in
``.cache/reference-client/<hash of the client source>/`` (pip's cache makes a rebuild quick).
Exit status 2 and a message on stderr when the source is missing or pip fails.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "upstream" / "membrane-v0.2.0" / "clients" / "python"
# The package's base dependencies, as pyproject.toml declares them (tests/unit checks they agree).
OUR_RUNTIME_DEPS = ("httpx>=0.27,<1", "pydantic>=2.7,<3", "google-re2>=1.1,<2")


def reference_source() -> Path:
    """The directory of the reference client's ``pyproject.toml``."""
    if os.environ.get("MEMBRANE_REFERENCE_CLIENT"):
        return Path(os.environ["MEMBRANE_REFERENCE_CLIENT"])
    if os.environ.get("MEMBRANED_SOURCE"):
        return Path(os.environ["MEMBRANED_SOURCE"]) / "clients" / "python"
    return DEFAULT_SOURCE


def _source_hash(source: Path) -> str:
    digest = hashlib.sha256()
    files = [source / "pyproject.toml", *sorted((source / "membrane").rglob("*.py"))]
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(repr(OUR_RUNTIME_DEPS).encode())
    return digest.hexdigest()[:16]


def _python_of(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def ensure_venv(source: Path) -> Path:
    """Build the venv unless a complete one exists; return its python."""
    if not (source / "pyproject.toml").is_file():
        raise FileNotFoundError(f"no reference client at {source} (set MEMBRANE_REFERENCE_CLIENT)")
    base = ROOT / ".cache" / "reference-client"
    base.mkdir(parents=True, exist_ok=True)
    env_dir = base / _source_hash(source)
    done = env_dir / ".complete"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test runs build it once
        if done.exists():
            return _python_of(env_dir)
        shutil.rmtree(env_dir, ignore_errors=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        pip = [
            str(_python_of(env_dir)),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, str(source), *OUR_RUNTIME_DEPS], check=True)
        done.write_text(str(source) + "\n")
    return _python_of(env_dir)


def main() -> int:
    try:
        print(ensure_venv(reference_source()))
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"reference client venv: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
