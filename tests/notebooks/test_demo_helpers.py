"""The demo's helpers: the progress indicator, the %%membraned gate, the membraned launcher."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from membrane_integrations.core.errors import BackendUnavailableError
from membrane_integrations.demo import notebook
from membrane_integrations.demo.models import memory_answer
from membrane_integrations.demo.progress import waiting
from membrane_integrations.membrane import daemon as daemon_module
from membrane_integrations.membrane.daemon import LocalMembraned, find_membraned


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_waiting_spins_on_a_terminal_and_erases_itself() -> None:
    stream = _Terminal()
    with waiting("storing", stream=stream, interval=60):
        assert stream.getvalue() == "\r| storing"  # shown before the block's work starts
    assert stream.getvalue().endswith("\r" + " " * len("| storing") + "\r")


def test_waiting_writes_one_plain_line_elsewhere() -> None:
    stream = io.StringIO()
    with waiting("storing", stream=stream):
        pass
    assert stream.getvalue() == "... storing\n"


def test_the_gate_skips_marked_cells_without_a_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notebook._state, "daemon", None)
    assert notebook._gate(["%%membraned\n", "x = 1\n"]) == [
        "print('skipped: this cell needs membraned, which is not running (see above)')\n"
    ]
    assert notebook._gate(["x = 1\n"]) == ["x = 1\n"]
    assert notebook._gate([]) == []


def test_start_membraned_explains_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(notebook, "find_membraned", lambda **_: None)
    assert notebook.start_membraned() is None
    out = capsys.readouterr().out
    assert "go install github.com/GustyCube/membrane/cmd/membraned@v0.2.0" in out
    assert "MEMBRANED_BIN" in out


def test_memory_answer_reads_the_first_numbered_memory() -> None:
    assert memory_answer("Relevant memories:\n1. Bob is vegan\n2. Bob runs") == (
        "From memory: Bob is vegan"
    )
    assert memory_answer("You are a helpful assistant.") is None


def test_memory_answer_picks_the_memory_the_question_is_about() -> None:
    context = "Relevant memories:\n1. Bob is vegan\n2. Bob's daughter is allergic to peanuts"
    assert memory_answer(context, "Is anyone allergic to something?") == (
        "From memory: Bob's daughter is allergic to peanuts"
    )
    assert memory_answer(context, "What about the weather?") == "From memory: Bob is vegan"


def _fake_go_source(root: Path) -> Path:
    source = root / "membrane"
    (source / "cmd" / "membraned").mkdir(parents=True)
    (source / "cmd" / "membraned" / "main.go").write_text("package main\n")
    return source


def test_find_membraned_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MEMBRANED_BIN, then the build cached under the source's hash, then PATH (no source)."""
    from membrane_integrations.membrane._daemon_build import resolve_membraned, source_hash

    monkeypatch.delenv("MEMBRANED_BIN", raising=False)
    monkeypatch.delenv("MEMBRANED_SOURCE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no go, no membraned
    source = _fake_go_source(tmp_path)
    cache = tmp_path / "cache"
    cached = cache / f"membraned-{source_hash(source)}"
    cached.parent.mkdir()
    cached.write_text("#!/bin/sh\n")
    monkeypatch.setenv("MEMBRANED_SOURCE", str(source))
    assert find_membraned(cache_dir=cache, quiet=True) is None  # not executable, no Go to build
    cached.chmod(cached.stat().st_mode | stat.S_IXUSR)
    found = resolve_membraned(cache_dir=cache, log=None)
    assert (found.path, found.how) == (str(cached), "cache")
    (source / "cmd" / "membraned" / "main.go").write_text("package main // changed\n")
    assert find_membraned(cache_dir=cache, quiet=True) is None  # a changed source rebuilds
    explicit = tmp_path / "other"
    explicit.write_text("#!/bin/sh\n")
    explicit.chmod(0o755)
    monkeypatch.setenv("MEMBRANED_BIN", str(explicit))
    assert find_membraned(cache_dir=cache, quiet=True) == str(explicit)
    monkeypatch.delenv("MEMBRANED_BIN")
    monkeypatch.delenv("MEMBRANED_SOURCE")
    # no source: the checkout's own build (here the stale one) before PATH
    assert find_membraned(cache_dir=cache, quiet=True) == str(cached)
    cached.unlink()
    (tmp_path / "empty").mkdir()
    on_path = tmp_path / "empty" / "membraned"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert find_membraned(cache_dir=cache, quiet=True) == str(on_path)


def _executable_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_clean_environment_finds_what_the_checkout_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No MEMBRANED_BIN or MEMBRANED_SOURCE: the status file of ``make membraned``, then the
    cache directory (the file the printed go install hint makes, then the newest build)."""
    import json

    from membrane_integrations.membrane._daemon_build import (
        install_hint,
        resolve_membraned,
        status_file,
    )

    for name in ("MEMBRANED_BIN", "MEMBRANED_SOURCE", "MEMBRANED_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    cache = tmp_path / ".cache" / "bin"
    old = _executable_file(cache / "membraned-0123456789abcdef")
    new = _executable_file(cache / "membraned-fedcba9876543210")
    os.utime(old, (1, 1))
    found = resolve_membraned(cache_dir=cache, build=False, log=None)
    assert (found.path, found.how) == (str(new), "cache")
    # the hint's command: GOBIN=<cache> go install ... writes <cache>/membraned
    assert f"GOBIN={cache} go install" in install_hint(cache)
    hinted = _executable_file(cache / "membraned")
    assert resolve_membraned(cache_dir=cache, build=False, log=None).path == str(hinted)
    recorded = _executable_file(tmp_path / "elsewhere" / "membraned-built")
    status = status_file(cache)
    assert status == tmp_path / ".cache" / "membraned.json"
    status.write_text(json.dumps({"state": "ok", "path": str(recorded)}))
    assert resolve_membraned(cache_dir=cache, build=False, log=None).path == str(recorded)
    status.write_text(json.dumps({"state": "ok", "path": str(tmp_path / "gone")}))
    assert resolve_membraned(cache_dir=cache, build=False, log=None).path == str(hinted)
    monkeypatch.setenv("MEMBRANED_CACHE_DIR", str(cache))  # the default cache dir, from env
    assert find_membraned(quiet=True) == str(hinted)


def test_a_relative_membraned_bin_resolves_against_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from membrane_integrations.membrane._daemon_build import resolve_membraned

    _executable_file(tmp_path / "bin" / "membraned")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMBRANED_BIN", "bin/membraned")
    found = resolve_membraned(log=None)
    assert found.path == str(tmp_path / "bin" / "membraned") and os.path.isabs(found.path)
    monkeypatch.setenv("MEMBRANED_BIN", "./bin/membraned")
    assert resolve_membraned(log=None).path == str(tmp_path / "bin" / "membraned")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("MEMBRANED_BIN", "membraned")  # a bare name: looked up on PATH
    assert resolve_membraned(log=None).path == str(tmp_path / "bin" / "membraned")
    assert LocalMembraned("bin/membraned").binary == str(tmp_path / "bin" / "membraned")


@pytest.mark.live
def test_a_relative_membraned_bin_starts_the_daemon(
    real_membraned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon runs in a temporary directory: the relative path is fixed at resolution."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "membraned").symlink_to(real_membraned)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMBRANED_BIN", "bin/membraned")
    with LocalMembraned() as daemon, daemon.client() as client:
        assert client.get_metrics()["total_records"] == 0


def test_resolution_without_go_says_how_to_get_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from membrane_integrations.membrane._daemon_build import (
        MembranedNotFoundError,
        resolve_membraned,
    )

    monkeypatch.delenv("MEMBRANED_BIN", raising=False)
    monkeypatch.setenv("MEMBRANED_SOURCE", str(_fake_go_source(tmp_path)))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MembranedNotFoundError, match="Go is not installed") as caught:
        resolve_membraned(cache_dir=tmp_path / "cache")
    assert caught.value.no_go
    assert "go install github.com/GustyCube/membrane/cmd/membraned@v0.2.0" in str(caught.value)
    monkeypatch.setenv("MEMBRANED_BIN", str(tmp_path / "missing"))
    with pytest.raises(MembranedNotFoundError, match="not an executable"):
        resolve_membraned()
    assert capsys.readouterr().out == ""  # nothing printed when nothing was chosen


@pytest.mark.live
@pytest.mark.membraned
def test_make_membraned_builds_from_source_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build step for real: go build from MEMBRANED_SOURCE, then the cached binary."""
    import shutil

    from membrane_integrations.membrane._daemon_build import resolve_membraned

    source = os.environ.get("MEMBRANED_SOURCE")
    if not source or shutil.which("go") is None:
        pytest.skip("needs Go and MEMBRANED_SOURCE (make test sets it when the source is there)")
    monkeypatch.delenv("MEMBRANED_BIN", raising=False)
    lines: list[str] = []
    built = resolve_membraned(cache_dir=tmp_path, log=lines.append)
    again = resolve_membraned(cache_dir=tmp_path, log=lines.append)
    assert (built.how, again.how, again.path) == ("build", "cache", built.path)
    assert lines[0].startswith("membraned: built ") and "cached build" in lines[1]
    with LocalMembraned(built.path) as daemon, daemon.client() as client:
        assert client.get_metrics()["total_records"] == 0


@pytest.mark.live
def test_launcher_starts_answers_and_cleans_up(
    real_membraned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBRANE_API_KEY", "inherited")  # must not reach the daemon
    daemon = LocalMembraned().start()  # resolves MEMBRANED_BIN itself
    try:
        assert daemon.binary == real_membraned
        assert daemon.running and daemon.addr.startswith("127.0.0.1:")
        with daemon.client() as client:
            assert client.ingest_event("e", "r").id
            assert client.get_metrics()["total_records"] == 1
        tmp = daemon._tmp
        assert tmp is not None and (tmp / "membraned.yaml").is_file()
    finally:
        daemon.stop()
    assert not daemon.running and not tmp.exists()
    assert "membraned: listening on" in daemon.stderr


@pytest.mark.live
def test_launcher_reports_a_daemon_that_exits(tmp_path: Path) -> None:
    broken = tmp_path / "membraned"
    broken.write_text("#!/bin/sh\necho 'bad flag' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(BackendUnavailableError, match="exited with status 3: bad flag"):
        LocalMembraned(str(broken), ready_timeout=10).start()
    with pytest.raises(BackendUnavailableError, match="could not start membraned"):
        LocalMembraned(str(tmp_path / "missing")).start()


def test_launcher_api_key_is_not_in_its_repr() -> None:
    assert "secret" not in repr(LocalMembraned("membraned", api_key="secret-key"))
    assert os.environ.get("MEMBRANE_API_KEY") != "secret-key"
    assert daemon_module.INSTALL_HINT.startswith("membraned (the Membrane daemon) is not installed")
