"""A small labelled corpus for measuring topical ranking of Membrane ``Retrieve`` (recall@5).

Eight topics of four records each are ingested as semantic observations in one scope, then
penalised by a fixed schedule so their salience interleaves the topics: ranking by salience
alone (what membraned does on SQLite, spec 4.10) puts the same five records first for every
query and scores about 0.2 recall@5; ranking by the query (pgvector server-side, or
``core.rerank`` client-side) should put each query's four topical records in its top five.

``HashingLangChainEmbeddings`` exposes the emulator's deterministic hashed embedder (the same
one its ``/v1/embeddings`` serves) as a LangChain ``Embeddings``.

Used by the live tests in this folder and by ``benchmarks/membrane_scale.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings

from membrane_integrations.emulator import HashingEmbeddings

SCOPE = "kb"
SUBJECT = "team"
PREDICATE = "noted"

TOPICS: dict[str, list[str]] = {
    "coffee": [
        "The user drinks a double espresso coffee every morning",
        "Coffee beans for the office espresso machine are ordered from Lisbon",
        "The user takes coffee with oat milk and never sugar",
        "Decaf coffee after four pm keeps the user sleeping well",
    ],
    "deploy": [
        "Production deploys run on Tuesdays after the release checklist",
        "The deploy pipeline rolls back automatically when health checks fail",
        "Staging deploys need a green build on the main branch",
        "Deploy keys for production rotate every ninety days",
    ],
    "database": [
        "The orders database is PostgreSQL with nightly database backups",
        "Database migrations are written with Alembic and reviewed",
        "The analytics database replica lags about five seconds",
        "Slow database queries above 200 ms are logged",
    ],
    "travel": [
        "The user flies to Tokyo in March for the conference",
        "Travel bookings go through the company travel portal",
        "The user prefers aisle seats on long travel flights",
        "A hotel near the Tokyo conference venue is booked",
    ],
    "garden": [
        "Tomatoes in the garden need watering every evening",
        "The garden roses were pruned in February",
        "Compost for the garden vegetable beds is turned weekly",
        "Basil grows best in the sunny corner of the garden",
    ],
    "fitness": [
        "The user runs ten km on Saturday mornings for marathon training",
        "The marathon training plan starts in June",
        "Running shoes are replaced every 800 km of training",
        "Knee pain after long runs means more stretching before training",
    ],
    "billing": [
        "Invoices are sent on the first day of each month",
        "Late invoice payments incur a two percent fee",
        "The billing system exports invoices to the accounting tool",
        "Refunds on paid invoices need manager approval",
    ],
    "music": [
        "The user plays jazz piano on weekends",
        "Piano lessons are on Thursday evenings",
        "The user is practising a Chopin nocturne on the piano",
        "The piano needs tuning twice a year",
    ],
}

QUERIES: list[tuple[str, str]] = [
    ("What coffee does the user drink in the morning?", "coffee"),
    ("How do production deploys work?", "deploy"),
    ("Tell me about database backups and migrations", "database"),
    ("Plans for the Tokyo conference travel", "travel"),
    ("Watering and compost for the garden", "garden"),
    ("Marathon training and running", "fitness"),
    ("When are invoices sent and paid?", "billing"),
    ("Piano practice and lessons", "music"),
]

#: recall@5 that a query-aware ranking must reach on this corpus; salience alone scores ~0.2.
RECALL_FLOOR = 0.75


def corpus() -> list[tuple[str, str]]:
    """``(topic, text)`` for every record, in ingest order (topics interleaved)."""
    width = max(len(texts) for texts in TOPICS.values())
    return [
        (topic, texts[i]) for i in range(width) for topic, texts in TOPICS.items() if i < len(texts)
    ]


def penalty(index: int) -> float:
    """The salience taken off the ``index``-th ingested record: a fixed, topic-blind spread."""
    return round(((index * 7) % 32) * 0.02, 4)


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def seed(client: Any, *, scope: str = SCOPE) -> dict[str, str]:
    """Ingest the corpus with ``client`` (sync or async Membrane client); ``{record id: topic}``."""
    labels: dict[str, str] = {}
    for index, (topic, text) in enumerate(corpus()):
        record = await _resolve(
            client.ingest_observation(SUBJECT, PREDICATE, text, scope=scope, tags=[topic])
        )
        amount = penalty(index)
        if amount:
            await _resolve(client.penalize(record.id, amount, "corpus-seed", "spread salience"))
        labels[record.id] = topic
    return labels


def recall_at_5(ranked: Iterable[Sequence[str]], labels: dict[str, str]) -> float:
    """Mean over :data:`QUERIES` of |top 5 ids on the query's topic| / |records on that topic|.

    ``ranked`` holds one list of record ids per query, in :data:`QUERIES` order.
    """
    scores: list[float] = []
    for (_, topic), ids in zip(QUERIES, ranked, strict=True):
        relevant = {rid for rid, t in labels.items() if t == topic}
        scores.append(len(relevant.intersection(ids[:5])) / len(relevant))
    return sum(scores) / len(scores)


class HashingLangChainEmbeddings(Embeddings):
    """The emulator's hashed embedder as a LangChain ``Embeddings`` (lexical, not semantic)."""

    def __init__(self, dimensions: int | None = None) -> None:
        self._inner = HashingEmbeddings() if dimensions is None else HashingEmbeddings(dimensions)
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        return self._inner.embed_query(text)
