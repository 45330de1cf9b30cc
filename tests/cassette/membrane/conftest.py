"""Network blocking for Membrane cassette replays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture
def no_network() -> Iterator[None]:
    """Block every Python-level socket (pytest-socket) for the duration of a replay."""
    disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()
