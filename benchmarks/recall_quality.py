"""What an agent recalls: LoCoMo evidence recall through every public read surface.

LoCoMo (Maharana et al., ACL 2024; CC BY-NC 4.0, read from a folder, never copied here) holds ten
long two-person conversations whose questions name the turns that hold the answer. Each turn
becomes one memory ``[<session date>] <speaker>: <text>``, written through a public write path
into one container per conversation (Membrain: ``MembrainClient.add`` with the container's
tokens from ``membrain.tenancy``; Membrane: AutoGen ``MembraneMemory.add``). Every question of
categories 1-4 is then asked through each read surface with its default configuration (only
identity and connection arguments, and ``k=10``, the size of the answer measured), and through
three baselines over the same turns with no server: BM25 alone, the WordLlama embedder alone,
and the two fused by ``core.ranking``.

Metric: evidence recall@k (the share of a question's evidence turns among the first k returned,
averaged over questions) and hit@k (at least one evidence turn among them), per surface and per
category, for the development conversations (26, 30, 41, 42, 43) and the held-out ones (44, 47,
48, 49, 50) apart. Also the query latency p50/p95 of each surface and the ingest rate.

Surfaces are a registry (:data:`SURFACES`): each entry names its backend and opens an asker
(``ask(container, question, k) -> texts``); add or replace an entry to measure a new surface.

Run (from the repository root)::

    .venv/bin/python benchmarks/recall_quality.py                 # full, ~10 minutes
    .venv/bin/python benchmarks/recall_quality.py --quick         # conversations 26 and 30
    .venv/bin/python benchmarks/recall_quality.py --surfaces bm25,membrain.retriever
    .venv/bin/python benchmarks/recall_quality.py --json out.json --data /path/to/locomo

The Membrane rows need the daemon (``MEMBRANED_BIN`` or ``make membraned``); without it they are
skipped with a note.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from membrane_integrations.core.ranking import (  # noqa: E402
    DEFAULT_FUSION,
    Fusion,
    fuse,
    hybrid_order,
    semantic_scores,
)

DEV = (26, 30, 41, 42, 43)
HELD_OUT = (44, 47, 48, 49, 50)
QUICK = (26, 30)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
K = 10
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "locomo"
_DIA = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")


# -- the data ------------------------------------------------------------------------------------


@dataclass
class Question:
    text: str
    evidence: frozenset[str]
    category: int


@dataclass
class Conversation:
    cid: int
    turns: list[tuple[str, str]]  # (dia_id, memory text)
    questions: list[Question]

    @property
    def container(self) -> str:
        return f"locomo-{self.cid}"


@dataclass
class Loaded:
    conversations: list[Conversation]
    evidence_ids: int = 0
    repaired: int = 0
    dropped: int = 0
    questions_without_evidence: int = 0


def _evidence(raw: Iterable[str], known: set[str], tally: Loaded) -> set[str]:
    """Dialogue ids of one question: malformed ids repaired ("D:11:26", "D8:6; D9:17")."""
    out: set[str] = set()
    for item in raw:
        tally.evidence_ids += 1
        found = [f"D{s}:{t}" for s, t in _DIA.findall(str(item))]
        if not found or any(f not in known for f in found):
            tally.dropped += 1
        if found and (len(found) > 1 or found[0] != str(item).strip()):
            tally.repaired += 1
        out.update(f for f in found if f in known)
    return out


def load(path: Path, ids: Sequence[int]) -> Loaded:
    loaded = Loaded([])
    for cid in ids:
        data = json.loads((path / f"{cid}.json").read_text())
        conv = data.get("conversation", data)
        turns: list[tuple[str, str]] = []
        sessions = sorted(
            int(m.group(1)) for key in conv if (m := re.fullmatch(r"session_(\d+)", key))
        )
        for n in sessions:
            date = conv.get(f"session_{n}_date_time", "")
            for turn in conv[f"session_{n}"]:
                turns.append((turn["dia_id"], f"[{date}] {turn['speaker']}: {turn['text']}"))
        known = {d for d, _ in turns}
        questions = []
        for qa in data.get("qa", []):
            if qa.get("category") not in CATEGORIES:
                continue
            evidence = _evidence(qa.get("evidence", []), known, loaded)
            if not evidence:
                loaded.questions_without_evidence += 1
                continue
            questions.append(Question(qa["question"], frozenset(evidence), int(qa["category"])))
        loaded.conversations.append(Conversation(cid, turns, questions))
    return loaded


class TextIndex:
    """Maps returned texts back to the dialogue ids they hold (by the stored memory text)."""

    def __init__(self, turns: Sequence[tuple[str, str]]) -> None:
        self.by_text: dict[str, set[str]] = defaultdict(set)
        for dia, text in turns:
            self.by_text[text.strip()].add(dia)

    def ids(self, text: str) -> set[str]:
        text = text.strip()
        if text in self.by_text:
            return self.by_text[text]
        # a surface may prefix the stored text ("user noted: [date] ..."): try each "[" in it
        start = text.find("[")
        while start != -1:
            if text[start:] in self.by_text:
                return self.by_text[text[start:]]
            start = text.find("[", start + 1)
        return set()


# -- the surfaces ------------------------------------------------------------------------------

Ask = Callable[[str, str, int], Awaitable[list[str]]]


@dataclass
class Env:
    """What the surfaces connect to; filled in by :func:`main`."""

    conversations: list[Conversation]
    embedder: Any = None
    membrain_url: str = ""
    membrain_key: str = ""
    membrane_addr: str = ""
    membrane_key: str | None = None
    vectors: dict[str, Any] = field(default_factory=dict)  # container -> turn vectors
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def conversation(self, container: str) -> Conversation:
        return next(c for c in self.conversations if c.container == container)


@dataclass(frozen=True)
class Surface:
    name: str
    backend: str  # "baseline", "membrain" or "membrane"
    open: Callable[[Env], Awaitable[Ask]]
    note: str = ""


SURFACES: dict[str, Surface] = {}


def surface(name: str, backend: str, note: str = "") -> Callable[[Any], Any]:
    """Register an opener ``async (env) -> ask`` under ``name``."""

    def register(opener: Callable[[Env], Awaitable[Ask]]) -> Callable[[Env], Awaitable[Ask]]:
        SURFACES[name] = Surface(name, backend, opener, note)
        return opener

    return register


def _per_container(make: Callable[[str], Any]) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def get(container: str) -> Any:
        if container not in cache:
            cache[container] = make(container)
        return cache[container]

    return get


# baselines: the same turns ranked with no server


def _texts(env: Env, container: str) -> list[str]:
    return [text for _, text in env.conversation(container).turns]


@surface("bm25", "baseline", "BM25 over the turns (core.ranking.lexical_scores)")
async def _bm25(env: Env) -> Ask:
    async def ask(container: str, question: str, k: int) -> list[str]:
        texts = _texts(env, container)
        return [texts[i] for i in hybrid_order(question, texts)[:k]]

    return ask


def _turn_vectors(env: Env, container: str) -> Any:
    if container not in env.vectors:
        env.vectors[container] = np.asarray(env.embedder.embed_documents(_texts(env, container)))
    return env.vectors[container]


@surface("embedder", "baseline", "WordLlama cosine over the turns")
async def _embedder(env: Env) -> Ask:
    async def ask(container: str, question: str, k: int) -> list[str]:
        texts = _texts(env, container)
        semantic = semantic_scores(
            env.embedder.embed_query(question), _turn_vectors(env, container)
        )
        return [texts[i] for i in fuse(semantic, None)[:k]]

    return ask


def _fused(fusion: Fusion) -> Callable[[Env], Awaitable[Ask]]:
    async def open_fused(env: Env) -> Ask:
        async def ask(container: str, question: str, k: int) -> list[str]:
            texts = _texts(env, container)
            order = hybrid_order(
                question,
                texts,
                query_vector=env.embedder.embed_query(question),
                vectors=_turn_vectors(env, container),
                fusion=fusion,
            )
            return [texts[i] for i in order[:k]]

        return ask

    return open_fused


surface("bm25+embedder", "baseline", "core.ranking.hybrid_order, default (min-max linear)")(
    _fused(DEFAULT_FUSION)
)
surface("bm25+embedder rrf", "baseline", "hybrid_order(fusion='rrf'), reciprocal rank")(
    _fused("rrf")
)


# Membrain on the emulator


def _membrain_sync(env: Env) -> Any:
    from membrane_integrations.membrain import MembrainClient

    client = MembrainClient(env.membrain_key, base_url=env.membrain_url)

    async def close() -> None:
        client.close()

    env.closers.append(close)
    return client


@surface("membrain.client.search", "membrain", "MembrainClient.search (raw: k counts edges)")
async def _membrain_client(env: Env) -> Ask:
    from membrane_integrations.membrain.models import MemoryNode
    from membrane_integrations.membrain.tenancy import Tenancy

    client = _membrain_sync(env)

    async def ask(container: str, question: str, k: int) -> list[str]:
        response = client.search(question, k=k, scope=Tenancy(container).read_scope(None))
        return [
            hit.content if isinstance(hit, MemoryNode) else hit.description
            for hit in response.results
        ]

    return ask


@surface("membrain.retriever", "membrain", "LangChain MembrainRetriever.invoke")
async def _membrain_retriever(env: Env) -> Ask:
    from membrane_integrations.langchain import MembrainRetriever

    client = _membrain_sync(env)
    get = _per_container(lambda c: MembrainRetriever(client=client, container=c))

    async def ask(container: str, question: str, k: int) -> list[str]:
        return [d.page_content for d in get(container).invoke(question, k=k)]

    return ask


@surface("membrain.autogen", "membrain", "AutoGen MembrainMemory.query")
async def _membrain_autogen(env: Env) -> Ask:
    from pydantic import SecretStr

    from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig

    def make(container: str) -> Any:
        memory = MembrainMemory(
            MembrainMemoryConfig(
                container=container,
                base_url=env.membrain_url,
                api_key=SecretStr(env.membrain_key),
            )
        )
        env.closers.append(memory.close)
        return memory

    get = _per_container(make)

    async def ask(container: str, question: str, k: int) -> list[str]:
        result = await get(container).query(question, limit=k)
        return [str(item.content) for item in result.results]

    return ask


@surface(
    "membrain.middleware",
    "membrain",
    "MembrainMemoryMiddleware recall (what wrap_model_call injects)",
)
async def _membrain_middleware(env: Env) -> Ask:
    from membrane_integrations.langchain import MembrainMemoryMiddleware

    client = _membrain_sync(env)
    get = _per_container(lambda c: MembrainMemoryMiddleware(client=client, container=c, k=K))

    async def ask(container: str, question: str, k: int) -> list[str]:
        middleware = get(container)
        texts: list[str] = middleware._recall(middleware._identity(container), question)
        return texts

    return ask


@surface("membrain.agent_framework", "membrain", "MembrainContextProvider recall (before_run)")
async def _membrain_provider(env: Env) -> Ask:
    from pydantic import SecretStr

    from membrane_integrations.agent_framework import (
        MembrainContextConfig,
        MembrainContextProvider,
    )
    from membrane_integrations.agent_framework.identity import MembrainIdentity

    provider = MembrainContextProvider(
        MembrainContextConfig(base_url=env.membrain_url, api_key=SecretStr(env.membrain_key), k=K)
    )
    env.closers.append(provider.aclose)

    async def ask(container: str, question: str, k: int) -> list[str]:
        texts: list[str] = await provider._recall(MembrainIdentity(container=container), question)
        return texts

    return ask


# Membrane on the real daemon


def _membrane_sync(env: Env) -> Any:
    from membrane_integrations.membrane import MembraneClient

    client = MembraneClient(env.membrane_addr, api_key=env.membrane_key)

    async def close() -> None:
        client.close()

    env.closers.append(close)
    return client


@surface("membrane.retriever", "membrane", "LangChain MembraneRetriever.invoke")
async def _membrane_retriever(env: Env) -> Ask:
    from membrane_integrations.langchain import MembraneRetriever

    client = _membrane_sync(env)
    get = _per_container(lambda c: MembraneRetriever(client=client, scope=c))

    async def ask(container: str, question: str, k: int) -> list[str]:
        return [d.page_content for d in get(container).invoke(question, k=k)]

    return ask


def _membrane_memory(env: Env, container: str) -> Any:
    from pydantic import SecretStr

    from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig

    key = SecretStr(env.membrane_key) if env.membrane_key else None
    memory = MembraneMemory(
        MembraneMemoryConfig(container=container, addr=env.membrane_addr, api_key=key)
    )
    env.closers.append(memory.close)
    return memory


@surface("membrane.autogen", "membrane", "AutoGen MembraneMemory.query")
async def _membrane_autogen(env: Env) -> Ask:
    get = _per_container(lambda c: _membrane_memory(env, c))

    async def ask(container: str, question: str, k: int) -> list[str]:
        result = await get(container).query(question, limit=k)
        return [str(item.content) for item in result.results]

    return ask


@surface(
    "membrane.middleware",
    "membrane",
    "MembraneMemoryMiddleware recall (what wrap_model_call injects)",
)
async def _membrane_middleware(env: Env) -> Ask:
    from membrane_integrations.langchain import MembraneMemoryMiddleware

    client = _membrane_sync(env)
    get = _per_container(lambda c: MembraneMemoryMiddleware(client=client, container=c, k=K))

    async def ask(container: str, question: str, k: int) -> list[str]:
        middleware = get(container)
        texts: list[str] = middleware._recall(middleware._identity(container), question)
        return texts

    return ask


@surface("membrane.agent_framework", "membrane", "MembraneContextProvider recall (before_run)")
async def _membrane_provider(env: Env) -> Ask:
    from pydantic import SecretStr

    from membrane_integrations.agent_framework import (
        MembraneContextConfig,
        MembraneContextProvider,
    )
    from membrane_integrations.agent_framework.identity import MembraneIdentity

    key = SecretStr(env.membrane_key) if env.membrane_key else None
    provider = MembraneContextProvider(
        MembraneContextConfig(addr=env.membrane_addr, api_key=key, k=K)
    )
    env.closers.append(provider.aclose)

    async def ask(container: str, question: str, k: int) -> list[str]:
        texts: list[str] = await provider._recall(MembraneIdentity(container=container), question)
        return texts

    return ask


# -- writing -----------------------------------------------------------------------------------


async def ingest_membrain(env: Env) -> float:
    """Every turn through ``AsyncMembrainClient.add`` (container tokens from the tenancy rule)."""
    from membrane_integrations.membrain import AsyncMembrainClient
    from membrane_integrations.membrain.tenancy import Tenancy

    count = 0
    start = time.perf_counter()
    async with AsyncMembrainClient(env.membrain_key, base_url=env.membrain_url) as client:
        for conv in env.conversations:
            tokens = Tenancy(conv.container).write_tokens(None)
            # sent in order, waited for in order: the emulator ingests one job at a time
            accepted = [await client.add(text, scope=tokens, wait=False) for _, text in conv.turns]
            for job in accepted:
                await client.wait_for_job(job.job_id, wait_timeout=600)
            count += len(conv.turns)
    return count / (time.perf_counter() - start)


async def ingest_membrane(env: Env) -> float:
    """Every turn through AutoGen ``MembraneMemory.add`` (an observation in the container)."""
    from autogen_core.memory import MemoryContent, MemoryMimeType

    count = 0
    start = time.perf_counter()
    for conv in env.conversations:
        memory = _membrane_memory(env, conv.container)
        for _, text in conv.turns:
            await memory.add(MemoryContent(content=text, mime_type=MemoryMimeType.TEXT))
            count += 1
    return count / (time.perf_counter() - start)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Row:
    surface: str
    split: str
    recall5: list[float] = field(default_factory=list)
    recall10: list[float] = field(default_factory=list)
    hit5: list[float] = field(default_factory=list)
    hit10: list[float] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    category: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    latency_ms: list[float] = field(default_factory=list)

    def add(self, q: Question, found: list[set[str]], elapsed: float) -> None:
        top5 = set().union(*found[:5]) & q.evidence
        top10 = set().union(*found[:10]) & q.evidence
        self.recall5.append(len(top5) / len(q.evidence))
        self.recall10.append(len(top10) / len(q.evidence))
        self.hit5.append(float(bool(top5)))
        self.hit10.append(float(bool(top10)))
        self.returned.append(len(found))
        self.category[q.category].append(len(top10) / len(q.evidence))
        self.latency_ms.append(elapsed * 1000)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latency_ms)
        return {
            "surface": self.surface,
            "split": self.split,
            "questions": len(self.recall10),
            "recall@5": statistics.fmean(self.recall5),
            "recall@10": statistics.fmean(self.recall10),
            "hit@5": statistics.fmean(self.hit5),
            "hit@10": statistics.fmean(self.hit10),
            "mean_returned": statistics.fmean(self.returned),
            "recall@10_by_category": {
                CATEGORIES[c]: statistics.fmean(v) for c, v in sorted(self.category.items())
            },
            "p50_ms": lat[len(lat) // 2],
            "p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))],
        }


async def measure(env: Env, names: Sequence[str], rows: dict[tuple[str, str], Row]) -> None:
    """Ask every question through every surface in turn (load on the machine hits all alike)."""
    askers = {name: await SURFACES[name].open(env) for name in names}
    for conv in env.conversations:
        split = "dev" if conv.cid in DEV else "held-out"
        index = TextIndex(conv.turns)
        for n, q in enumerate(conv.questions, start=1):
            if n % 50 == 0:
                print(f"  {conv.container}: {n} questions", file=sys.stderr, flush=True)
            for name, ask in askers.items():
                start = time.perf_counter()
                texts = await ask(conv.container, q.text, K)
                elapsed = time.perf_counter() - start
                row = rows.setdefault((name, split), Row(name, split))
                row.add(q, [index.ids(t) for t in texts[:K]], elapsed)
        print(
            f"  {conv.container}: {len(conv.questions)} questions asked",
            file=sys.stderr,
            flush=True,
        )


def print_table(results: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    for split in ("dev", "held-out"):
        picked = [r for r in results if r["split"] == split]
        if not picked:
            continue
        n = picked[0]["questions"]
        print(f"\n## {split} conversations ({n} questions, categories 1-4)\n")
        cats = list(CATEGORIES.values())
        print(
            "| surface | recall@5 | recall@10 | hit@5 | hit@10 | returned | "
            + " | ".join(f"r@10 {c}" for c in cats)
            + " | p50 ms | p95 ms |"
        )
        print("|" + " --- |" * (8 + len(cats)))
        for r in picked:
            by_cat = r["recall@10_by_category"]
            print(
                f"| {r['surface']} | {r['recall@5']:.3f} | {r['recall@10']:.3f} | "
                f"{r['hit@5']:.3f} | {r['hit@10']:.3f} | {r['mean_returned']:.1f} | "
                + " | ".join(f"{by_cat.get(c, float('nan')):.3f}" for c in cats)
                + f" | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |"
            )
    print()
    for key, value in extra.items():
        print(f"{key}: {value}")


def print_aims(results: list[dict[str, Any]]) -> None:
    """The issue's aims, printed (never asserted)."""
    by = {(r["surface"], r["split"]): r for r in results}
    base = by.get(("membrain.client.search", "dev")) or by.get(
        ("membrain.client.search", "held-out")
    )
    print("\n## aims (Membrain surfaces, default configuration)\n")
    for (name, split), r in sorted(by.items()):
        if not name.startswith("membrain.") or split != "dev":
            continue
        held = by.get((name, "held-out"))
        parts = [f"recall@10 dev {r['recall@10']:.3f} (aim >= 0.60)"]
        if held is not None:
            gap = held["recall@10"] - r["recall@10"]
            parts.append(f"held-out {held['recall@10']:.3f} ({gap:+.3f}; aim within 0.03)")
        if base is not None:
            parts.append(f"p95 {r['p95_ms'] / base['p95_ms']:.2f} x client search (aim <= 1.3)")
        print(f"- {name}: " + "; ".join(parts))


async def run(args: argparse.Namespace) -> int:
    ids = QUICK if args.quick else DEV + HELD_OUT
    loaded = load(Path(args.data), ids)
    if args.max_questions > 0:
        for conv in loaded.conversations:
            step = max(1, len(conv.questions) / args.max_questions)
            picked = sorted({int(i * step) for i in range(args.max_questions)})
            conv.questions = [conv.questions[i] for i in picked if i < len(conv.questions)]
    names = list(SURFACES) if not args.surfaces else args.surfaces.split(",")
    unknown = [n for n in names if n not in SURFACES]
    if unknown:
        print(f"unknown surface(s): {', '.join(unknown)}; known: {', '.join(SURFACES)}")
        return 2
    env = Env(loaded.conversations)
    turns = sum(len(c.turns) for c in loaded.conversations)
    questions = sum(len(c.questions) for c in loaded.conversations)
    extra: dict[str, Any] = {
        "conversations": ",".join(str(c.cid) for c in loaded.conversations),
        "questions per conversation": args.max_questions or "all",
        "turns": turns,
        "questions (categories 1-4 with evidence)": questions,
        "evidence ids": loaded.evidence_ids,
        "evidence ids repaired (malformed, e.g. 'D:11:26', 'D8:6; D9:17')": loaded.repaired,
        "evidence ids dropped (naming no turn)": loaded.dropped,
        "questions dropped (no evidence left)": loaded.questions_without_evidence,
    }
    backends = {SURFACES[n].backend for n in names}
    from membrane_integrations.embeddings import WordLlamaEmbedder

    env.embedder = WordLlamaEmbedder()
    rows: dict[tuple[str, str], Row] = {}
    emulator = daemon = None
    try:
        if "membrain" in backends:
            from membrane_integrations.emulator import MembrainEmulator

            emulator = MembrainEmulator().__enter__()
            env.membrain_url, env.membrain_key = emulator.url, emulator.api_key
            extra["membrain ingest (turns/s, emulator)"] = f"{await ingest_membrain(env):.1f}"
        if "membrane" in backends:
            from membrane_integrations.membrane.daemon import LocalMembraned

            try:
                daemon = LocalMembraned(api_key="recall-quality-bench").start()
            except Exception as exc:
                print(f"membrane rows skipped: the daemon did not start ({exc})", file=sys.stderr)
                names = [n for n in names if SURFACES[n].backend != "membrane"]
            else:
                env.membrane_addr, env.membrane_key = daemon.addr, daemon.api_key
                extra["membrane ingest (turns/s, membraned SQLite)"] = (
                    f"{await ingest_membrane(env):.1f}"
                )
        await measure(env, names, rows)
    finally:
        for close in env.closers:
            try:
                await close()
            except Exception as exc:  # a close failure must not hide the figures
                print(f"close failed: {exc!r}", file=sys.stderr)
        if daemon is not None:
            daemon.stop()
        if emulator is not None:
            emulator.__exit__(None, None, None)
    results = [rows[key].summary() for key in sorted(rows, key=lambda k: (k[1], names.index(k[0])))]
    print_table(results, extra)
    print_aims(results)
    if args.json:
        payload = json.dumps({"results": results, "run": extra}, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, payload)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("LOCOMO_DIR", str(DEFAULT_DATA)))
    parser.add_argument("--quick", action="store_true", help="conversations 26 and 30 only")
    parser.add_argument("--surfaces", default="", help=f"comma list of: {', '.join(SURFACES)}")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    parser.add_argument(
        "--max-questions",
        type=int,
        default=0,
        help="ask at most this many questions per conversation, spread evenly (0: all)",
    )
    args = parser.parse_args(argv)
    if not Path(args.data, "26.json").exists():
        print(f"LoCoMo not found in {args.data}: pass --data (see the module docstring)")
        return 2
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
