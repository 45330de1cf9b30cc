"""A Membrain-compatible server for development, tests and demos on one machine.

The emulator follows the Membrain API guide (``/api/v1``: async ingest with jobs, unified
search over memory nodes and relationship edges, regex scope filters, graph analytics, quotas)
so that code written against it runs unchanged against the hosted service. It is not the hosted
service: data lives in SQLite on this machine and the embedder is WordLlama, a small static
semantic model whose weights ship in the ``wordllama`` wheel (offline), or a word-hashing model
when ``wordllama`` is not installed. Move to the hosted Membrain when you outgrow it.

Needs the ``emulator`` extra (``pip install membrane-integrations[emulator]``).

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu:
    ...     with emu.client() as client:
    ...         client.add("User likes green tea").action
    'created'
"""

from __future__ import annotations

from .._extras import requires_extra

with requires_extra("emulator"):
    from ..embeddings.wordllama import WordLlamaEmbedder, wordllama_available
    from .embeddings import NATIVE_DIMENSIONS, EmbeddingsLike, HashingEmbeddings
    from .engine import Engine
    from .faults import FaultConfig, FaultInjector
    from .guard import Limits
    from .quotas import QuotaConfig
    from .selection import describe_embedder, make_embedder
    from .server import MembrainEmulator, generate_key

__all__ = [
    "NATIVE_DIMENSIONS",
    "EmbeddingsLike",
    "Engine",
    "FaultConfig",
    "FaultInjector",
    "HashingEmbeddings",
    "Limits",
    "MembrainEmulator",
    "QuotaConfig",
    "WordLlamaEmbedder",
    "describe_embedder",
    "generate_key",
    "make_embedder",
    "wordllama_available",
]
