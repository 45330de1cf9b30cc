"""AutoGen memory components for Membrain (HTTP) and Membrane (gRPC).

``MembrainMemory`` and ``MembraneMemory`` implement :class:`autogen_core.memory.Memory` and are
AutoGen components: ``dump_component()`` / ``load_component()`` round-trip them (without the API
key). The classes load on first use, so ``MembrainMemory`` does not need grpc installed.

Example:
    >>> from membrane_integrations.autogen import MembrainMemoryConfig
    >>> MembrainMemoryConfig(container="bob").k
    5
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .config import MembrainMemoryConfig, MembraneMemoryConfig, MemoryKind, OnError

if TYPE_CHECKING:
    from .membrain_memory import MembrainMemory
    from .membrane_memory import MembraneMemory

__all__ = [
    "MembrainMemory",
    "MembrainMemoryConfig",
    "MembraneMemory",
    "MembraneMemoryConfig",
    "MemoryKind",
    "OnError",
]

_LAZY = {
    "MembrainMemory": ".membrain_memory",
    "MembraneMemory": ".membrane_memory",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), extra="autogen")
