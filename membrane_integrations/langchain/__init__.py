"""LangChain tools, toolkits, retrievers and agent middlewares for Membrain and Membrane.

The Membrane names (``MembraneToolkit``, ``MembraneRetriever``, ``MembraneMemoryMiddleware``,
``Membrane*Tool``) load on first use, so ``pip install membrane-integrations[langchain]``
works without grpc; so does ``WordLlamaEmbeddings`` (offline embeddings, the ``embeddings`` extra),
the agent middlewares (``Membrain/MembraneMemoryMiddleware``, which need ``langchain`` 1.x itself,
not only ``langchain-core``), the LangGraph stores ``MembrainStore`` / ``MembraneStore`` (the
``langgraph`` extra) and the chat histories ``MembrainChatMessageHistory`` /
``MembraneChatMessageHistory``.

Example:
    >>> from membrane_integrations.langchain import MembrainToolkit, MembrainRetriever
    >>> MembrainToolkit.__name__, MembrainRetriever.__name__
    ('MembrainToolkit', 'MembrainRetriever')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # the real names for type checkers and IDEs
    from .chat_history_membrain import MembrainChatMessageHistory
    from .chat_history_membrane import MembraneChatMessageHistory
    from .embeddings import WordLlamaEmbeddings
    from .membrain_middleware import MembrainMemoryMiddleware
    from .membrain_retriever import MembrainRetriever
    from .membrain_toolkit import MembrainToolkit
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
    from .membrane_middleware import MembraneMemoryMiddleware
    from .membrane_retriever import MembraneRetriever
    from .membrane_toolkit import MembraneToolkit
    from .membrane_tools import (
        MembraneActionResult,
        MembraneContestTool,
        MembraneIngestEventTool,
        MembraneIngestObservationTool,
        MembraneIngestOutcomeTool,
        MembraneIngestToolOutputTool,
        MembraneIngestWorkingStateTool,
        MembranePenalizeTool,
        MembraneReinforceTool,
        MembraneRetractTool,
        MembraneRetrieveTool,
        MembraneSupersedeTool,
        MembraneTool,
    )
    from .store_membrain import MembrainStore
    from .store_membrane import MembraneStore

# Every name loads on first access, so that a user of one backend never pays for the other's
# modules (nor httpx / grpc) at import.
_LAZY = {
    "MembrainRetriever": ".membrain_retriever",
    "MembrainToolkit": ".membrain_toolkit",
    **{
        name: ".membrain_tools"
        for name in (
            "MembrainAddTool",
            "MembrainDeleteTool",
            "MembrainGetTool",
            "MembrainGraphHubsTool",
            "MembrainGraphNeighborhoodTool",
            "MembrainGraphPathTool",
            "MembrainGraphTraverseTool",
            "MembrainSearchTool",
            "MembrainStatsTool",
            "MembrainTool",
            "MembrainUnlinkTool",
            "MembrainUpdateTool",
        )
    },
    "WordLlamaEmbeddings": ".embeddings",
    "MembrainStore": ".store_membrain",
    "MembraneStore": ".store_membrane",
    "MembrainChatMessageHistory": ".chat_history_membrain",
    "MembraneChatMessageHistory": ".chat_history_membrane",
    "MembraneToolkit": ".membrane_toolkit",
    "MembraneMemoryMiddleware": ".membrane_middleware",
    "MembrainMemoryMiddleware": ".membrain_middleware",
    "MembraneRetriever": ".membrane_retriever",
    **{
        name: ".membrane_tools"
        for name in (
            "MembraneActionResult",
            "MembraneContestTool",
            "MembraneIngestEventTool",
            "MembraneIngestObservationTool",
            "MembraneIngestOutcomeTool",
            "MembraneIngestToolOutputTool",
            "MembraneIngestWorkingStateTool",
            "MembranePenalizeTool",
            "MembraneReinforceTool",
            "MembraneRetractTool",
            "MembraneRetrieveTool",
            "MembraneSupersedeTool",
            "MembraneTool",
        )
    },
}


__all__ = [
    "MembrainAddTool",
    "MembrainChatMessageHistory",
    "MembrainDeleteTool",
    "MembrainGetTool",
    "MembrainGraphHubsTool",
    "MembrainGraphNeighborhoodTool",
    "MembrainGraphPathTool",
    "MembrainGraphTraverseTool",
    "MembrainMemoryMiddleware",
    "MembrainRetriever",
    "MembrainSearchTool",
    "MembrainStatsTool",
    "MembrainStore",
    "MembrainTool",
    "MembrainToolkit",
    "MembrainUnlinkTool",
    "MembrainUpdateTool",
    "MembraneActionResult",
    "MembraneChatMessageHistory",
    "MembraneContestTool",
    "MembraneIngestEventTool",
    "MembraneIngestObservationTool",
    "MembraneIngestOutcomeTool",
    "MembraneIngestToolOutputTool",
    "MembraneIngestWorkingStateTool",
    "MembraneMemoryMiddleware",
    "MembranePenalizeTool",
    "MembraneReinforceTool",
    "MembraneRetractTool",
    "MembraneRetrieveTool",
    "MembraneRetriever",
    "MembraneStore",
    "MembraneSupersedeTool",
    "MembraneTool",
    "MembraneToolkit",
    "WordLlamaEmbeddings",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), extra="langchain")
