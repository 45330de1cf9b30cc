"""Long-term memory for LangChain and AutoGen agents, backed by Membrain and Membrane.

Importing this package imports no framework, no grpc and no web server: the public names below
are loaded on first use.

Example:
    >>> import membrane_integrations
    >>> membrane_integrations.__version__
    '0.1.0'
"""

from __future__ import annotations

from ._lazy import lazy_exports

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "MembrainClient": "membrane_integrations.membrain",
    "AsyncMembrainClient": "membrane_integrations.membrain",
    "MembraneClient": "membrane_integrations.membrane",
    "AsyncMembraneClient": "membrane_integrations.membrane",
    "MembrainEmulator": "membrane_integrations.emulator",
    "MembraneIntegrationsError": "membrane_integrations.core.errors",
    "WordLlamaEmbedder": "membrane_integrations.embeddings",
    "WordLlamaEmbeddings": "membrane_integrations.langchain",
}

__all__ = ["__version__", *sorted(_LAZY)]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
