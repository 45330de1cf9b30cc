"""``python -m membrane_integrations demo``: run in process (and once as a subprocess)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import pytest

from membrane_integrations.__main__ import main
from membrane_integrations.demo import run_demo
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain.tenancy import container_filter
from membrane_integrations.membrane import daemon as daemon_module

pytestmark = pytest.mark.live


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon_module, "find_membraned", lambda **_: None)


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emu:
        yield emu


def _run(**kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_demo(out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_membrain_stories_against_the_in_process_emulator(offline: None) -> None:
    code, out, err = _run(backend="membrain")
    assert code == 0
    assert "in-process emulator at http://127.0.0.1:" in out
    # stored, recalled, answered: the agent story
    assert 'tool call membrain_add(content="User\'s dog is called Rex.")' in out
    assert "tool call membrain_search(query='Which pet do I have?')" in out
    assert "agent: From memory: User's dog is called Rex." in out
    assert "agent: From memory: User's office on Fridays is in Lisbon." in out
    # the RAG story: the March slice holds only March notes, and the chain answers from it
    march = out.split("only March 2026")[1].split("chain answer")[0]
    assert "Since March the billing service is deployed on Mondays." in march
    assert "Fridays" not in march
    assert "chain answer (March slice): Based on the context: Since March" in out
    # the AutoGen story shows what was injected into the model's context
    injected = out.split("memories injected into the model's context:")[1]
    assert "Bob's daughter is allergic to peanuts." in injected
    # asked about an allergy, the agent answers with the allergy (not the first memory)
    assert "agent: From memory: Bob's daughter is allergic to peanuts." in out
    # full lines: no fact is cut, long lines are wrapped
    assert not any(line.rstrip().endswith("...") for line in out.splitlines())
    assert "deployed on\n     Mondays." in out or "deployed on Mondays." in out
    assert all(len(line) <= 100 for line in out.splitlines() if " " in line.strip())
    assert "reranked" not in out  # the comparison showed two equal lists: dropped
    assert "cleaned up: 10 demo memories deleted" in out
    assert "Membrane stories" not in out
    assert out.rstrip().endswith("Done.")
    # progress: one plain line per wait when stderr is not a terminal
    assert "... the agent is thinking\n" in err and "\r" not in err


def test_hosted_target_is_used_and_left_clean(emulator: MembrainEmulator, offline: None) -> None:
    code, out, _ = _run(base_url=emulator.url, api_key=emulator.api_key, backend="membrain")
    assert code == 0
    assert f"Membrain: {emulator.url} (hosted" in out
    assert emulator.api_key not in out
    with emulator.client() as client:
        assert client.stats().total_memories == 0
        assert client.count(scope=[container_filter("demo")]) == 0


def test_both_without_the_daemon_skips_membrane_in_one_line(offline: None, no_daemon: None) -> None:
    code, out, _ = _run(backend="both")
    assert code == 0
    skipped = [line for line in out.splitlines() if "Membrane stories skipped" in line]
    assert len(skipped) == 1
    assert "go install github.com/GustyCube/membrane/cmd/membraned@v0.2.0" in skipped[0]


def test_membrane_backend_without_the_daemon_fails_clearly(offline: None, no_daemon: None) -> None:
    code, out, _ = _run(backend="membrane")
    assert code == 1
    assert "Membrane stories skipped" in out and "MEMBRANED_BIN" in out


def test_membrane_stories_against_the_real_daemon(offline: None, clean_membraned: str) -> None:
    code, out, _ = _run(backend="membrane")
    assert code == 0, out
    assert f"membraned ({clean_membraned})" in out
    assert "Deployed billing v42 -> outcome failure" in out
    assert "low trust   : semantic medium salience 1.00  [redacted]" in out
    assert "medium trust: semantic medium salience 1.00  user phone '+351 555 0100'" in out
    assert "audit: decay by demo-agent: penalty: the user was travelling" in out
    assert "user timezone 'America/New_York' (active)" in out
    assert "billing-api rate_limit 100 (contested)" in out
    assert "the retracted fact is hidden from salient retrieval" in out
    # membraned on SQLite orders equal salience newest first (ORDER BY salience DESC,
    # created_at DESC), whatever the question: the Italian-food fact, stored last, would come
    # first. The story re-ranks on the client by meaning, so the allergy the task asks about is
    # injected first and answered.
    injected = out.split("memories injected into the model's context:")[1].splitlines()[1:4]
    assert [line.strip() for line in injected][0] == (
        "user diet Bob's daughter is allergic to peanuts."
    )
    assert sorted(line.strip() for line in injected) == [
        "user diet Bob is vegetarian and avoids fish.",
        "user diet Bob prefers Italian food on weekends.",
        "user diet Bob's daughter is allergic to peanuts.",
    ]
    assert "agent: From memory: user diet Bob's daughter is allergic to peanuts." in out


def test_half_a_hosted_target_is_refused(offline: None) -> None:
    code, out, _ = _run(base_url="http://127.0.0.1:9", backend="membrain")
    assert code == 2 and "give both --base-url and --api-key" in out


def test_cli_flags_reach_the_demo(
    offline: None, no_daemon: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--backend", "membrane"]) == 1
    assert "Membrane stories skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--backend", "nope"])


def test_python_m_demo_exits_zero(offline: None, no_daemon: None) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "membrane_integrations", "demo", "--backend", "membrain"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "agent: From memory: User's dog is called Rex." in proc.stdout
    assert "... starting the Membrain emulator" in proc.stderr


def test_python_m_demo_finds_the_built_daemon_with_a_clean_environment(
    offline: None, clean_membraned: str
) -> None:
    """What a user types after ``make demo``: no MEMBRANED_BIN, no MEMBRANED_SOURCE."""
    proc = subprocess.run(
        [sys.executable, "-m", "membrane_integrations", "demo", "--backend", "membrane"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"membraned ({clean_membraned})" in proc.stdout
    assert "skipped" not in proc.stdout
