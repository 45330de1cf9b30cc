"""Old import path of :mod:`.membrain_toolkit` (kept so existing imports work).

Example:
    >>> from membrane_integrations.langchain.toolkits import MembrainToolkit
    >>> MembrainToolkit.__module__
    'membrane_integrations.langchain.membrain_toolkit'
"""

from .membrain_toolkit import MembrainToolkit

__all__ = ["MembrainToolkit"]
