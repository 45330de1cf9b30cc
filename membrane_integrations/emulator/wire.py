"""The JSON the emulator answers with, built from store records (the Membrain guide's shapes).

Example:
    >>> from .storage import Brief
    >>> tea = Brief("m1", "User likes green tea", ["container.bob"], None)
    >>> node = graph_node(tea, degree=2)
    >>> node["scope"], node["degree"]
    (['container.bob'], 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .graph import Followed
from .storage import Brief, JobRow, Row
from .synthesis import EdgeHit, shorten

__all__ = [
    "followed_edge",
    "graph_edge",
    "graph_node",
    "job",
    "memory",
    "memory_node",
    "not_found_path",
    "related_memory",
    "relationship_edge",
]


def memory(row: Row, links: Mapping[str, str]) -> dict[str, Any]:
    """A whole memory (``GET /memories/{id}``, job results, updates); ``links`` maps each
    linked memory id to the link's description."""
    return {
        "id": row.id,
        "content": row.content,
        "scope": row.scope,
        "category": row.category,
        "timestamp": row.created_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "links": [{"memory_id": other, "description": desc} for other, desc in links.items()],
        "evolution_history": row.evolution,
    }


def job(row: JobRow) -> dict[str, Any]:
    """An ingest job (``GET /memories/jobs/{id}``)."""
    return {
        "job_id": row.id,
        "status": row.status,
        "result": row.result,
        "error": row.error,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def related_memory(other: Brief, description: str) -> dict[str, Any]:
    """One entry of a search hit's ``related_memories``."""
    return {
        "id": other.id,
        "content": shorten(other.content, 200),
        "description": description,
        "scope": other.scope,
    }


def memory_node(hit: Brief, score: float, related: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``memory_node`` search result."""
    return {
        "type": "memory_node",
        "id": hit.id,
        "content": hit.content,
        "scope": hit.scope,
        "category": hit.category,
        "semantic_score": round(float(score), 6),
        "related_memories": related,
    }


def relationship_edge(edge: EdgeHit) -> dict[str, Any]:
    """A ``relationship_edge`` search result."""
    return {
        "type": "relationship_edge",
        "description": edge.description,
        "source": edge.source,
        "target": edge.target,
        "score": round(edge.score, 6),
    }


def graph_node(node: Brief, **extra: Any) -> dict[str, Any]:
    """A node of a graph reply, with its extra fields (``degree``, ``distance``, ``hop``)."""
    return {
        "id": node.id,
        "content": node.content,
        "scope": node.scope,
        "category": node.category,
        **extra,
    }


def graph_edge(source: str, target: str, description: str) -> dict[str, Any]:
    return {"source": source, "target": target, "description": description}


def followed_edge(link: Followed) -> dict[str, Any]:
    """A link ``/graph/traverse`` followed."""
    return {
        "source": link.source,
        "target": link.target,
        "description": link.description,
        "similarity": round(link.similarity, 6),
    }


def not_found_path(from_id: str, to_id: str) -> dict[str, Any]:
    """The ``/graph/path`` reply when no path joins the two memories."""
    return {
        "from_id": from_id,
        "to_id": to_id,
        "found": False,
        "path": [],
        "hops": None,
        "nodes": [],
    }
