"""Old import path of :mod:`.membrain_retriever` (kept so existing imports work).

Example:
    >>> from membrane_integrations.langchain.retrievers import MembrainRetriever
    >>> MembrainRetriever.__module__
    'membrane_integrations.langchain.membrain_retriever'
"""

from .membrain_retriever import MembrainRetriever, search_documents

__all__ = ["MembrainRetriever", "search_documents"]
