"""Text rendering for the model: content, ids, scores, edges, budget."""

from __future__ import annotations

from membrane_integrations.membrain.models import (
    BulkDeleteResult,
    GraphHub,
    GraphHubs,
    IngestResult,
    Memory,
    SearchResponse,
)
from membrane_integrations.tools import _budget
from membrane_integrations.tools import _format_membrain as fmt


def test_fit_keeps_whole_lines_and_counts_the_rest() -> None:
    assert _budget.fit(["a" * 10, "b" * 10, "c" * 10], 21) == "a" * 10 + "\n" + "b" * 10 + (
        "\n[1 more line trimmed]"
    )
    assert _budget.fit(["x" * 50], 10) == "x" * 9 + "…"
    assert _budget.fit([], 10) == ""


def test_search_rendering_covers_interpreted_edges_and_empty() -> None:
    response = SearchResponse.model_validate(
        {
            "results": [
                {
                    "type": "memory_node",
                    "id": "m1",
                    "content": "A\nmulti-line fact",
                    "scope": [],
                    "semantic_score": 0.5,
                },
                {
                    "type": "relationship_edge",
                    "description": "How is A related to B?",
                    "source": {"id": "m1", "content": "A"},
                    "target": "m2",
                    "score": 0.75,
                },
            ],
            "interpreted": {
                "answer_summary": "A relates to B",
                "key_facts": ["A"],
                "supporting_memory_ids": ["m1"],
                "confidence": 0.8,
            },
        }
    )
    text = fmt.render_search(response)
    assert text.splitlines()[0] == "Summary: A relates to B"
    assert "2 results." in text
    assert "1. [memory m1] score 0.50: A multi-line fact" in text
    assert "2. [edge m1 -> m2] score 0.75: How is A related to B?" in text
    assert "- confidence: 0.80" in text
    empty = fmt.render_search(SearchResponse(results=[], interpreted_error="model down"))
    assert "model down" in empty and "No memories matched" in empty


def test_other_renderings() -> None:
    memory = Memory(
        id="m1",
        content="c",
        scope=["s"],
        links=[{"memory_id": "m2", "description": "why"}],
        evolution_history=[{"content": "old"}],
    )
    text = fmt.render_memories([memory], ["m3"])
    assert "link -> m2: why" in text and "1 earlier version" in text and "Not found: m3." in text
    assert fmt.render_ingest(IngestResult(memory_id="m1", action="updated")).startswith("Merged")
    assert fmt.render_bulk_delete(BulkDeleteResult(deleted_count=0)).startswith("No memories")
    hubs = GraphHubs(hubs=[GraphHub(id="h", content="hub", degree=3)])
    assert "- h (3 links): hub" in fmt.render_hubs(hubs)
    assert fmt.render_count(1, True) == "1 memory matching the filter."
