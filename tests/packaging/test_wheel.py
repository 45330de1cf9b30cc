"""The built wheel, installed outside the source tree, runs the demo and a README block.

``make dist`` is what users run (``python -m build --no-isolation``); this test builds the same
way from a copy of the sources (so the checkout gets no ``build/`` or ``egg-info``), installs the
wheel into a fresh virtual environment in a temporary directory and runs from there. To stay
fast and offline the fresh environment sees the dev environment's site-packages (one ``.pth``
line, after its own) and the wheel is installed with ``--no-deps``: the dependencies come from
the dev environment, the package itself only from the wheel. The test asserts that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from membrane_integrations.emulator import MembrainEmulator
from tests.docs.markdown_blocks import chains, needs_membrane, parse_blocks

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "membrane_integrations")

pytestmark = pytest.mark.live


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _clean_env(home: Path) -> dict[str, str]:
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "MEMBRAIN_BASE_URL", "MEMBRAIN_API_KEY", "OPENAI_API_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["HOME"] = str(home)  # the wheel's daemon cache (~/.cache/...) stays in the test's tmp
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / name)
    out = tmp_path_factory.mktemp("dist")
    env = _clean_env(tmp_path_factory.mktemp("home"))
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), "."], src, env)
    (built,) = out.glob("membrane_integrations-*.whl")
    assert list(out.glob("membrane_integrations-*.tar.gz")), "no sdist"
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = tmp_path_factory.mktemp("venv")
    env = _clean_env(tmp_path_factory.mktemp("home"))
    _run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], venv, env)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            venv,
            env,
        ).strip()
    )
    # The dev environment's packages, searched after the fresh environment's own.
    (purelib / "zz_dev_site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)],
        venv,
        env,
    )  # fmt: skip
    yield python


def test_the_wheel_carries_the_package_and_its_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert "membrane_integrations/py.typed" in names
    assert "membrane_integrations/membrane/proto/membrane.proto" in names or any(
        n.startswith("membrane_integrations/membrane/proto/") and n.endswith(".proto")
        for n in names
    )
    assert not any(n.startswith("tests/") for n in names)
    for extra in ("langchain", "autogen", "agent-framework", "membrane", "emulator", "demo"):
        assert f"Provides-Extra: {extra}" in text


def test_the_installed_package_comes_from_the_fresh_environment(
    fresh_python: Path, tmp_path: Path
) -> None:
    env = _clean_env(tmp_path)
    where = _run(
        [str(fresh_python), "-c", "import membrane_integrations as m; print(m.__file__)"],
        tmp_path,
        env,
    ).strip()
    venv = fresh_python.parent.parent
    assert Path(where).is_relative_to(venv), where
    assert not Path(where).is_relative_to(ROOT)


def test_the_demo_runs_from_the_wheel(fresh_python: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    out = _run(
        [str(fresh_python), "-m", "membrane_integrations", "demo", "--backend", "membrain"],
        tmp_path,
        env,
    )
    assert "agent: From memory: User's dog is called Rex." in out
    assert out.rstrip().endswith("Done.")


def test_a_readme_block_runs_from_the_wheel(fresh_python: Path, tmp_path: Path) -> None:
    readme = chains(parse_blocks((ROOT / "README.md").read_text(), ROOT / "README.md"))
    chain = next(c for c in readme if not needs_membrane(c) and "await" not in c[0].code)
    script = tmp_path / "block.py"
    script.write_text("".join(block.code for block in chain))
    with MembrainEmulator(api_keys=["emu-wheel-key"]) as emulator:
        env = _clean_env(tmp_path)
        env.update(MEMBRAIN_BASE_URL=emulator.url, MEMBRAIN_API_KEY="emu-wheel-key")
        out = _run([str(fresh_python), str(script)], tmp_path, env)
    assert out.strip(), "the block printed nothing"
