"""Every ```python block of README.md and docs/*.md runs, as written, against real servers.

The convention is in :mod:`tests.docs.markdown_blocks`. Each chain of blocks gets a fresh
Membrain emulator (``MEMBRAIN_BASE_URL``, ``MEMBRAIN_API_KEY``) and, when it names Membrane, a
fresh real membraned with an API key (``MEMBRANE_ADDR``, ``MEMBRANE_API_KEY``), gated like every
daemon test (``tests/support/membraned.py``: fails under ``CI=true`` when Go is there and the
daemon cannot run). Pages are found when the tests are collected, so a new page is tested
without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from membrane_integrations.emulator import MembrainEmulator
from tests.docs.markdown_blocks import Block, chains, needs_membrane, parse_blocks, run_chain
from tests.support.membraned import Membraned, require_daemon

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
MEMBRANE_KEY = "docs-membrane-key"
MEMBRAIN_KEY = "emu-docs-key"

pytestmark = pytest.mark.live


def _chains() -> list[list[Block]]:
    return [c for page in PAGES for c in chains(parse_blocks(page.read_text(), page))]


def _id(chain: list[Block]) -> str:
    first = chain[0]
    return f"{first.path.relative_to(ROOT)}:{first.line}"


@pytest.fixture
def servers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    chain: list[Block] = request.node.callspec.params["chain"]
    for name in ("OPENAI_API_KEY", "MEMBRANED_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with MembrainEmulator(api_keys=[MEMBRAIN_KEY]) as emulator:
        monkeypatch.setenv("MEMBRAIN_BASE_URL", emulator.url)
        monkeypatch.setenv("MEMBRAIN_API_KEY", MEMBRAIN_KEY)
        if not needs_membrane(chain):
            monkeypatch.setenv("MEMBRANE_ADDR", "127.0.0.1:1")  # nothing listens: fails loudly
            monkeypatch.setenv("MEMBRANE_API_KEY", MEMBRANE_KEY)
            yield
            return
        with Membraned(require_daemon(), api_key=MEMBRANE_KEY) as daemon:
            monkeypatch.setenv("MEMBRANE_ADDR", daemon.addr)
            monkeypatch.setenv("MEMBRANE_API_KEY", MEMBRANE_KEY)
            yield


def test_the_pages_have_blocks() -> None:
    assert any(block.path.name == "README.md" for chain in _chains() for block in chain)


@pytest.mark.parametrize("chain", _chains(), ids=_id)
def test_block_runs_as_written(chain: list[Block], servers: None) -> None:
    run_chain(chain)


def test_a_continues_block_sees_the_previous_namespace_and_await_runs() -> None:
    page = (
        "```python\nimport asyncio\nx = 2\n```\n\n```text\nnot run\n```\n"
        "```python\n# continues\nawait asyncio.sleep(0)\ny = x * 3\n```\n"
        "```python\nassert 'x' not in globals()\n```\n"
    )
    found = chains(parse_blocks(page))
    assert [len(c) for c in found] == [2, 1]
    assert run_chain(found[0])["y"] == 6
    run_chain(found[1])


def test_a_failing_block_names_its_page_and_line() -> None:
    page = "# Title\n\n```python\nx = 1\nraise ValueError('broken')\n```\n"
    (chain,) = chains(parse_blocks(page, Path("docs/example.md")))
    with pytest.raises(ValueError, match="broken") as caught:
        run_chain(chain)
    frame = caught.traceback[-1]
    assert (str(frame.path), frame.lineno + 1) == ("docs/example.md", 5)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link or anchor between the pages fails."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "membrane" / "index.html").is_file()
