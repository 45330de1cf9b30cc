"""Running the emulator: OpenAI-style embeddings, SQLite file, custom embedder, TLS, CLI.

(The demo, which now belongs to the notebooks' stories, is tested with them.)
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from benchmarks._tls import make_tls_files
from membrane_integrations.emulator import MembrainEmulator
from tests.support.emulator_fixtures import KEY_A

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[3]


def test_openai_compatible_embeddings(emu: MembrainEmulator) -> None:
    auth = {"Authorization": f"Bearer {KEY_A}"}
    with httpx.Client(base_url=emu.url, headers=auth) as raw:
        one = raw.post("/v1/embeddings", json={"input": "User likes tea", "model": "m"}).json()
        assert one["object"] == "list" and one["model"] == "m"
        [item] = one["data"]
        assert item["object"] == "embedding" and item["index"] == 0
        native = emu.engine.native_dimensions()
        assert len(item["embedding"]) == native
        assert np.isclose(np.linalg.norm(item["embedding"]), 1.0, atol=1e-5)
        assert one["usage"] == {"prompt_tokens": 3, "total_tokens": 3}

        many = raw.post("/v1/embeddings", json={"input": ["a tea", "b coffee"]}).json()
        assert [d["index"] for d in many["data"]] == [0, 1]
        again = raw.post("/v1/embeddings", json={"input": "User likes tea"}).json()
        assert again["data"][0]["embedding"] == item["embedding"]  # deterministic

        short = raw.post("/v1/embeddings", json={"input": "User likes tea", "dimensions": 64})
        vector = short.json()["data"][0]["embedding"]
        assert len(vector) == 64 and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)

        too_big = raw.post("/v1/embeddings", json={"input": "x", "dimensions": native + 1})
        assert too_big.status_code == 400
        assert too_big.json()["error"]["code"] == "invalid_dimensions"
    with httpx.Client(base_url=emu.url) as anonymous:
        denied = anonymous.post("/v1/embeddings", json={"input": "x"})
        assert denied.status_code == 401 and "error" in denied.json()


def test_a_db_file_keeps_data_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "membrain.sqlite")
    with MembrainEmulator(api_keys=["emu-persist"], db_path=db) as first, first.client() as c:
        kept = c.add("User likes green tea", scope=["container.p"])
        c.add("User drinks green tea daily", scope=["container.p"])
    with MembrainEmulator(api_keys=["emu-persist"], db_path=db) as second, second.client() as c:
        assert c.get(kept.memory_id).content == "User likes green tea"
        assert c.search("User likes green tea", k=1, rerank=True).nodes[0].id == kept.memory_id
        assert c.stats().total_links == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        keys = conn.execute("SELECT DISTINCT tenant FROM memories").fetchall()
    assert keys and all("emu-persist" not in k[0] for k in keys)  # no key at rest


class CountingEmbeddings:
    """A LangChain-shaped embedder: only ``embed_documents`` / ``embed_query``."""

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        self.calls += 1
        return [
            1.0 if "tea" in text.lower() else 0.0,
            1.0 if "deploy" in text.lower() else 0.0,
            0.1,
        ]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def test_any_langchain_style_embedder_replaces_the_default() -> None:
    embedder = CountingEmbeddings()
    with MembrainEmulator(embeddings=embedder) as emulator, emulator.client() as client:
        tea = client.add("Tea time")
        client.add("Deploy day")
        top = client.search("more tea please", k=1, rerank=True).nodes[0]
        assert top.id == tea.memory_id
        with httpx.Client(base_url=emulator.url) as raw:
            reply = raw.post(
                "/v1/embeddings",
                json={"input": "tea"},
                headers={"Authorization": f"Bearer {emulator.api_key}"},
            )
        assert len(reply.json()["data"][0]["embedding"]) == 3
    assert embedder.calls >= 3


def test_tls(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    with MembrainEmulator(
        tls_certfile=str(files.server_cert), tls_keyfile=str(files.server_key)
    ) as emulator:
        assert emulator.url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(files.ca_cert))
        with httpx.Client(verify=trust) as http, emulator.client(http_client=http) as client:
            assert client.add("Served over TLS").action == "created"
            assert client.stats().total_memories == 1


def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "membrane_integrations", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # blocks until the server printed its URL (or exited)
    if "listening on" not in first:
        proc.kill()
        raise AssertionError(f"emulator CLI did not start: {first!r} {proc.stderr.read()}")
    url = first.split("listening on ", 1)[1].split()[0]
    return proc, url


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()  # what the server printed after the first line
    proc.wait(timeout=10)
    proc.stderr.close()
    proc.stdout.close()
    return out


def test_cli_serves_with_given_and_environment_keys() -> None:
    proc, url = _start_cli(
        "--api-key",
        "emu-cli-1",
        "--memory-cap",
        "0",
        "--fault-injection",
        "--synthesis-failure-rate",
        "1",
        env={"MEMBRAIN_EMULATOR_KEYS": "emu-cli-2"},
    )
    try:
        with httpx.Client(base_url=url) as raw:
            for key in ("emu-cli-1", "emu-cli-2"):
                assert raw.get("/api/v1/stats", headers={"X-API-Key": key}).status_code == 200
            assert raw.get("/api/v1/stats", headers={"X-API-Key": "nope"}).status_code == 401
            capped = raw.post(
                "/api/v1/memories", json={"content": "x"}, headers={"X-API-Key": "emu-cli-1"}
            )
            assert capped.status_code == 403
            failed = raw.post(
                "/api/v1/memories/search",
                json={"query": "x", "response_format": "interpreted"},
                headers={"X-API-Key": "emu-cli-1"},
            ).json()
            assert failed["interpreted"] is None and failed["interpreted_error"]
    finally:
        rest = _stop(proc)
    assert "emu-cli-1" not in rest and "2 given" in rest  # given keys are not echoed
    assert "export MEMBRAIN_API_KEY=<one of your --api-key values>" in rest


def test_cli_fault_rates_need_the_fault_injection_flag() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "membrane_integrations",
            "emulator",
            "--port",
            "0",
            "--error-rate",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "--error-rate need --fault-injection" in done.stderr


def test_cli_generates_and_prints_a_key_when_none_is_given() -> None:
    proc, url = _start_cli(env={"MEMBRAIN_EMULATOR_KEYS": ""})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        key = next(line for line in lines if line.startswith("API key:")).split()[-1]
        assert key.startswith("emu-")
        banner = "".join(proc.stdout.readline() for _ in range(3))
        assert f"export MEMBRAIN_BASE_URL={url}" in banner
        assert f"export MEMBRAIN_API_KEY={key}" in banner
        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as raw:
            assert raw.get("/ready").json() == {"status": "ready"}  # ready before it printed
            assert raw.post("/api/v1/memories", json={"content": "hello"}).status_code == 202
    finally:
        _stop(proc)


@pytest.mark.parametrize(
    ("flag", "expected", "dims"),
    [
        ((), "Embedder: wordllama (l2_supercat_256, 256", 256),
        (("--embedder", "hashing"), "Embedder: hashing (HashingEmbeddings, 384", 384),
    ],
)
def test_cli_prints_and_docs_show_the_embedder(
    flag: tuple[str, ...], expected: str, dims: int
) -> None:
    pytest.importorskip("wordllama")
    proc, url = _start_cli(*flag, "--api-key", "emu-cli-e")
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": "emu-cli-e"}) as raw:
            docs = raw.get("/openapi.json").json()["info"]["description"]
            assert expected.removeprefix("Embedder: ") in docs
            reply = raw.post(
                "/v1/embeddings",
                json={"input": "hello"},
                headers={"Authorization": "Bearer emu-cli-e"},
            ).json()
            assert len(reply["data"][0]["embedding"]) == dims
    finally:
        rest = _stop(proc)
    assert expected in rest


def test_auto_falls_back_to_hashing_without_wordllama(monkeypatch: pytest.MonkeyPatch) -> None:
    import membrane_integrations.emulator.selection as selection
    from membrane_integrations.emulator import HashingEmbeddings

    monkeypatch.setattr(selection, "wordllama_available", lambda: False)
    with MembrainEmulator() as emu:
        assert isinstance(emu.engine.embeddings, HashingEmbeddings)
        assert emu.embedder_description.startswith("hashing (")
        assert (emu.engine.link_threshold, emu.engine.duplicate_threshold) == (0.3, 0.95)
    with pytest.raises(RuntimeError, match="pip install"):
        selection.make_embedder("wordllama")


def test_a_db_file_written_with_the_hashing_embedder_is_re_embedded(tmp_path: Path) -> None:
    pytest.importorskip("wordllama")
    db = str(tmp_path / "old.sqlite")
    old = MembrainEmulator(api_keys=["emu-old"], db_path=db, embedder="hashing")
    with old, old.client() as c:
        tea = c.add("User prefers green tea in the morning", scope=["container.o"])
        c.add("User is allergic to peanuts", scope=["container.o"])
    with MembrainEmulator(api_keys=["emu-old"], db_path=db) as new, new.client() as c:
        assert new.engine.native_dimensions() == 256
        assert c.search("What does the user drink?", k=1, rerank=True).nodes[0].id == tea.memory_id
    with sqlite3.connect(db) as conn:
        sizes = {len(b) for (b,) in conn.execute("SELECT embedding FROM memories")}
        sizes |= {len(b) for (b,) in conn.execute("SELECT embedding FROM links")}
    assert sizes == {256 * 4}
