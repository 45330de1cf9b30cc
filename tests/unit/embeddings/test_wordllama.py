"""WordLlama loads from the wheel's own files with the network blocked, and nothing downloads."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from pytest_socket import SocketBlockedError, disable_socket, enable_socket

import membrane_integrations.embeddings.wordllama as wl
from membrane_integrations.embeddings import WordLlamaEmbedder, packaged_files
from membrane_integrations.emulator import Engine
from membrane_integrations.emulator.embeddings import cosine

pytest.importorskip("wordllama")


def _deny(*_: Any, **__: Any) -> Any:
    raise AssertionError("a download was attempted")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No socket at all, and every HTTP entry point wordllama or huggingface could use fails."""
    monkeypatch.setattr(requests.Session, "request", _deny)
    monkeypatch.setattr(requests, "get", _deny)
    monkeypatch.setattr(urllib.request, "urlopen", _deny)
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub, "hf_hub_download", _deny)
    monkeypatch.setattr(hub, "snapshot_download", _deny)
    wl._model.cache_clear()  # the load itself must happen under the block
    disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()
        wl._model.cache_clear()


def test_the_block_is_real(offline: None) -> None:
    import socket

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_loads_and_embeds_with_the_network_blocked(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.cache: nothing to find there
    emb = WordLlamaEmbedder()
    q = emb.embed_query("What does the user drink?")
    tea, nuts = emb.embed_documents(["User prefers green tea", "User is allergic to peanuts"])
    assert len(q) == 256 and cosine(q, tea) > cosine(q, nuts)
    assert not any(tmp_path.rglob("*")), "nothing may be written to a download cache"


def test_the_files_are_the_ones_inside_the_wheel() -> None:
    import wordllama

    package = Path(wordllama.__file__).parent
    weights, tokenizer = packaged_files()
    assert weights == package / "weights" / "l2_supercat_256.safetensors"
    assert tokenizer == package / "tokenizers" / "l2_supercat_tokenizer_config.json"


def test_a_missing_file_is_an_error_not_a_download(
    offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wl, "_WEIGHTS", ("weights", "no_such_model.safetensors"))
    with pytest.raises(FileNotFoundError, match="does not ship"):
        WordLlamaEmbedder()


def test_the_emulator_engine_embeds_searches_and_ingests_offline(offline: None) -> None:
    engine = Engine()  # the default embedder
    try:
        assert engine.native_dimensions() == 256
        tea, _ = engine.ingest_now("t", "User prefers green tea in the morning", None, None)
        engine.ingest_now("t", "User is allergic to peanuts", None, None)
        found = engine.search("t", "What does the user drink?", k=1)
        assert found["results"][0]["id"] == tea["id"]
    finally:
        engine.close()


def test_importing_wordllama_does_not_configure_root_logging() -> None:
    import subprocess
    import sys

    code = (
        "import logging; from membrane_integrations.embeddings import WordLlamaEmbedder; "
        "WordLlamaEmbedder(); print(len(logging.getLogger().handlers))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stderr


def test_vectors_are_unit_length_float32_and_truncations_work() -> None:
    for dims in (64, 128, 256):
        matrix = WordLlamaEmbedder(dims).embed_matrix(["User has a dog named Rex", "hello"])
        assert matrix.shape == (2, dims) and matrix.dtype == np.float32
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert WordLlamaEmbedder().embed_matrix([]).shape == (0, 256)
    with pytest.raises(ValueError, match="dimensions"):
        WordLlamaEmbedder(100)


def test_stop_words_are_dropped_unless_nothing_else_remains() -> None:
    emb = WordLlamaEmbedder()
    assert np.allclose(emb.embed_array("What is the tea?"), emb.embed_array("tea"))
    only_stop = emb.embed_array("what is it")
    assert np.linalg.norm(only_stop) > 0.99  # embedded as written, not as an empty string
    raw = WordLlamaEmbedder(drop_stop_words=False)
    assert not np.allclose(raw.embed_array("What is the tea?"), raw.embed_array("tea"))


def test_async_variants_match_the_sync_ones() -> None:
    emb = WordLlamaEmbedder()
    docs = ["User lives in Lisbon", "User drives an electric car"]
    assert asyncio.run(emb.aembed_documents(docs)) == emb.embed_documents(docs)
    assert asyncio.run(emb.aembed_query("Where is the user based?")) == emb.embed_query(
        "Where is the user based?"
    )


def test_the_bare_package_and_the_embeddings_package_import_no_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, membrane_integrations, membrane_integrations.embeddings; "
        "print(sorted(m for m in ('langchain_core', 'fastapi', 'uvicorn', 'wordllama', "
        "'tokenizers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
