"""LangChain tools, toolkits and retrievers for Membrain (and Membrane, with the grpc extra).

Example:
    >>> from membrane_integrations.langchain import MembrainToolkit, MembrainRetriever
    >>> MembrainToolkit.__name__, MembrainRetriever.__name__
    ('MembrainToolkit', 'MembrainRetriever')
"""

from __future__ import annotations

from .membrain_tools import (
    MembrainAddTool,
    MembrainDeleteTool,
    MembrainGetTool,
    MembrainGraphHubsTool,
    MembrainGraphNeighborhoodTool,
    MembrainGraphPathTool,
    MembrainGraphTraverseTool,
    MembrainSearchTool,
    MembrainStatsTool,
    MembrainTool,
    MembrainUnlinkTool,
    MembrainUpdateTool,
)
from .retrievers import MembrainRetriever
from .toolkits import MembrainToolkit

__all__ = [
    "MembrainAddTool",
    "MembrainDeleteTool",
    "MembrainGetTool",
    "MembrainGraphHubsTool",
    "MembrainGraphNeighborhoodTool",
    "MembrainGraphPathTool",
    "MembrainGraphTraverseTool",
    "MembrainRetriever",
    "MembrainSearchTool",
    "MembrainStatsTool",
    "MembrainTool",
    "MembrainToolkit",
    "MembrainUnlinkTool",
    "MembrainUpdateTool",
]
