"""Microsoft Agent Framework context providers for Membrain (HTTP) and Membrane (gRPC).

``MembrainContextProvider`` and ``MembraneContextProvider`` implement the framework's
``ContextProvider`` (``before_run`` / ``after_run``): pass one to ``Agent(context_providers=[...])``
and the agent recalls before every run and captures after it. The classes load on first use,
so ``MembrainContextProvider`` does not need grpc installed.

Example:
    >>> from membrane_integrations.agent_framework import MembrainContextConfig
    >>> MembrainContextConfig(container="bob").capture
    'user'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .config import CapturePolicy, MembrainContextConfig, MembraneContextConfig
from .identity import MembrainIdentity, MembraneIdentity

if TYPE_CHECKING:
    from .membrain_provider import MembrainContextProvider
    from .membrane_provider import MembraneContextProvider
    from .testing import ScriptedChatClient

__all__ = [
    "CapturePolicy",
    "MembrainContextConfig",
    "MembrainContextProvider",
    "MembrainIdentity",
    "MembraneContextConfig",
    "MembraneContextProvider",
    "MembraneIdentity",
    "ScriptedChatClient",
]

_LAZY = {
    "MembrainContextProvider": ".membrain_provider",
    "MembraneContextProvider": ".membrane_provider",
    "ScriptedChatClient": ".testing",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), extra="agent-framework")
