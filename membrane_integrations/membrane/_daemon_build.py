"""Where the membraned binary comes from: one resolution order, in :func:`resolve_membraned`.

1. ``MEMBRANED_BIN`` (an executable file; a relative path is taken from the current
   directory at resolution time, and a bare name is looked up on ``PATH``);
2. a binary cached in the cache directory (``.cache/bin`` of the checkout, or
   ``MEMBRANED_CACHE_DIR``) keyed by a hash of the source tree in ``MEMBRANED_SOURCE``, so a
   changed source builds again;
3. ``go build -o DIR/membraned ./cmd/membraned`` inside ``MEMBRANED_SOURCE`` (``CGO_ENABLED=1``;
   SQLite needs cgo), cached as in 2;
4. without ``MEMBRANED_SOURCE``, what this checkout already has, so a clean environment finds
   the daemon that ``make demo`` or ``make membraned`` built: the binary recorded in
   ``.cache/membraned.json`` (written by ``make membraned``), then in the cache directory
   ``membraned`` (what the printed ``GOBIN=... go install`` hint produces),
   ``membraned-v0.2.0`` (an earlier ``go install`` of ours) and the newest source build
   ``membraned-<hash>``;
5. ``membraned`` on ``PATH``, then a fresh ``go install`` of :data:`MODULE` (what a user with
   access to the Go module proxy gets).

Example:
    >>> r = Resolution("/usr/bin/membraned", "env", "MEMBRANED_BIN=/usr/bin/membraned")
    >>> r.describe()
    'membraned: MEMBRANED_BIN=/usr/bin/membraned'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.errors import BackendUnavailableError

__all__ = [
    "INSTALL_HINT",
    "MODULE",
    "MembranedNotFoundError",
    "Resolution",
    "default_cache_dir",
    "install_hint",
    "resolve_membraned",
    "source_hash",
    "status_file",
]

MODULE = "github.com/GustyCube/membrane/cmd/membraned@v0.2.0"
_HASHED_BUILD = re.compile(r"membraned-[0-9a-f]{16}")
# Files whose content decides the binary; the hash ignores VCS metadata and build output.
_SOURCE_SUFFIXES = (".go", ".mod", ".sum", ".c", ".h", ".proto")
_BUILD_TIMEOUT = 1800.0

How = Literal["env", "cache", "build", "path", "install"]


class MembranedNotFoundError(BackendUnavailableError):
    """No membraned could be found or built; ``no_go`` says whether Go itself is missing."""

    def __init__(self, message: str, *, no_go: bool = False) -> None:
        super().__init__(message)
        self.no_go = no_go


@dataclass(frozen=True)
class Resolution:
    """Which binary was chosen (``path``), by which step (``how``) and a line saying so."""

    path: str
    how: How
    detail: str

    def describe(self) -> str:
        """The line printed when a binary is chosen."""
        return f"membraned: {self.detail}"


def default_cache_dir() -> Path:
    """``MEMBRANED_CACHE_DIR``, else ``.cache/bin`` of the checkout this package runs from.

    Outside a checkout (an installed wheel) it is ``~/.cache/membrane-integrations/bin``.
    """
    explicit = os.environ.get("MEMBRANED_CACHE_DIR")
    if explicit:
        return Path(explicit)
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():
        return root / ".cache" / "bin"
    return Path.home() / ".cache" / "membrane-integrations" / "bin"


def status_file(cache_dir: str | Path | None = None) -> Path:
    """Where ``make membraned`` records the binary it found: ``membraned.json`` beside the
    cache directory (``.cache/membraned.json`` of the checkout).

    >>> status_file("/repo/.cache/bin").as_posix()
    '/repo/.cache/membraned.json'
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return cache.parent / "membraned.json"


def install_hint(cache_dir: str | Path | None = None) -> str:
    """How to get membraned, with commands that work as printed: ``go install`` into the
    cache directory the launcher reads (``cache_dir``, default :func:`default_cache_dir`).

    >>> print(install_hint("/repo/.cache/bin").splitlines()[1].split(" go install")[0].strip())
    CGO_ENABLED=1 GOBIN=/repo/.cache/bin
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return (
        "membraned (the Membrane daemon) is not installed. Install it with Go 1.22+:\n"
        f"    CGO_ENABLED=1 GOBIN={shlex.quote(str(cache))} go install {MODULE}\n"
        "or point MEMBRANED_SOURCE at a checkout of github.com/GustyCube/membrane (v0.2.0) to\n"
        "build it from source (`make membraned` in a checkout does this), or point MEMBRANED_BIN\n"
        "at an existing binary."
    )


def source_hash(source: Path) -> str:
    """A short hash of the Go source tree (paths and contents of the files a build reads).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "main.go").write_text("package main")
    >>> a = source_hash(d); _ = (d / "main.go").write_text("package main // changed")
    >>> a != source_hash(d) and len(a) == 16
    True
    """
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if ".git" in rel.parts or not path.is_file() or not path.name.endswith(_SOURCE_SUFFIXES):
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _executable(path: str | Path) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _explicit_binary(value: str) -> Resolution:
    """``MEMBRANED_BIN``: an absolute path now (the daemon runs in another directory)."""
    path = os.path.abspath(value)
    if _executable(path):
        return Resolution(path, "env", f"MEMBRANED_BIN={value}")
    if os.sep not in value:
        found = shutil.which(value)
        if found:
            return Resolution(os.path.abspath(found), "env", f"MEMBRANED_BIN={value} ({found})")
    raise MembranedNotFoundError(f"MEMBRANED_BIN={value} is not an executable file ({path})")


def _recorded(cache: Path) -> Resolution | None:
    """What this checkout already has: the status file, then the cache directory."""
    status = status_file(cache)
    try:
        recorded = json.loads(status.read_text())
    except (OSError, ValueError):
        recorded = None
    if isinstance(recorded, dict) and recorded.get("state") == "ok":
        path = str(recorded.get("path", ""))
        if path and _executable(path):
            return Resolution(path, "cache", f"{path} (recorded in {status})")
    for name in ("membraned", "membraned-v0.2.0"):
        if _executable(cache / name):
            return Resolution(str(cache / name), "cache", f"cached {cache / name}")
    builds = [p for p in cache.glob("membraned-*") if _HASHED_BUILD.fullmatch(p.name)]
    builds = [p for p in builds if _executable(p)]
    if builds:
        newest = max(builds, key=lambda p: p.stat().st_mtime)
        return Resolution(str(newest), "cache", f"cached build {newest}")
    return None


def _go_env() -> dict[str, str]:
    return dict(os.environ, CGO_ENABLED="1")


def _run_go(args: list[str], cwd: Path | None, env: dict[str, str]) -> None:
    go = shutil.which("go")
    if go is None:
        raise MembranedNotFoundError(
            f"Go is not installed on this machine.\n{install_hint()}", no_go=True
        )
    try:
        proc = subprocess.run(
            [go, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=_BUILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise MembranedNotFoundError(f"go {' '.join(args)} timed out") from None
    if proc.returncode != 0:
        error = (proc.stderr or proc.stdout).strip()
        raise MembranedNotFoundError(f"go {' '.join(args)} failed: {error}")


def _build(source: Path, target: Path) -> None:
    """``go build`` inside ``source``, then an atomic rename to ``target``."""
    if not (source / "cmd" / "membraned").is_dir():
        raise MembranedNotFoundError(
            f"MEMBRANED_SOURCE={source} has no cmd/membraned (is it a membrane checkout?)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as out:
        _run_go(["build", "-o", f"{out}/membraned", "./cmd/membraned"], source, _go_env())
        os.replace(f"{out}/membraned", target)


def _install(target: Path) -> None:
    """``go install`` of :data:`MODULE` into a private GOBIN, then a rename to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".install-") as gobin:
        _run_go(["install", MODULE], None, dict(_go_env(), GOBIN=gobin))
        os.replace(f"{gobin}/membraned", target)


def resolve_membraned(
    *,
    source: str | Path | None = None,
    cache_dir: str | Path | None = None,
    search_path: bool = True,
    build: bool = True,
    log: Callable[[str], None] | None = print,
) -> Resolution:
    """Find or build membraned in the order of the module docstring; ``log`` gets one line.

    ``source`` defaults to ``MEMBRANED_SOURCE``; ``build=False`` only looks (no ``go``).
    Raises :class:`MembranedNotFoundError` (with :func:`install_hint` when Go is missing).
    """
    resolution = _resolve(source, cache_dir, search_path=search_path, build=build)
    if log is not None:
        log(resolution.describe())
    return resolution


INSTALL_HINT = install_hint()


def _resolve(
    source: str | Path | None, cache_dir: str | Path | None, *, search_path: bool, build: bool
) -> Resolution:
    explicit = os.environ.get("MEMBRANED_BIN")
    if explicit:
        return _explicit_binary(explicit)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    src = source if source is not None else os.environ.get("MEMBRANED_SOURCE") or None
    if src is not None:
        src_path = Path(src).resolve()
        if not src_path.is_dir():
            raise MembranedNotFoundError(f"MEMBRANED_SOURCE={src} is not a directory")
        key = source_hash(src_path)
        target = cache / f"membraned-{key}"
        if _executable(target):
            return Resolution(str(target), "cache", f"cached build {target} (source {key})")
        if not build:
            raise MembranedNotFoundError(f"no cached build of {src_path} (source {key})")
        _build(src_path, target)
        return Resolution(str(target), "build", f"built {target} from {src_path} (go build)")
    recorded = _recorded(cache)
    if recorded is not None:
        return recorded
    if search_path:
        found = shutil.which("membraned")
        if found:
            return Resolution(found, "path", f"{found} (on PATH)")
    target = cache / "membraned-v0.2.0"
    if not build:
        raise MembranedNotFoundError(install_hint(cache), no_go=shutil.which("go") is None)
    _install(target)
    return Resolution(str(target), "install", f"go install {MODULE} -> {target}")
