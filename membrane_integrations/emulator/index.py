"""The in-memory vector and graph index of one tenant, rebuilt from SQLite when invalidated.

Nodes (memory embeddings) and edges (link-description embeddings) live in growable float32
matrices, so an insert appends a row instead of copying the whole matrix, and a search is one
matrix-vector product. A scope mask is built from the hits a :class:`~.scope_memo.ScopeMemo`
knows for each distinct token (the engine has them matched, outside the store's lock, before it
asks), so the index itself never runs a pattern; a mask is cached per pattern list and brought
up to date with lookups for the rows added or changed since; the rows and edges in scope derived
from a mask are cached until the index changes.

Example:
    >>> import numpy as np
    >>> from .scope_memo import ScopeMemo
    >>> idx = TenantIndex(dims=2, memo=ScopeMemo())
    >>> idx.add_node("a", ("container.x",), None, np.array([1.0, 0.0], dtype=np.float32))
    >>> idx.add_node("b", ("container.y",), None, np.array([0.0, 1.0], dtype=np.float32))
    >>> idx.node_scores(np.array([1.0, 0.0], dtype=np.float32)).tolist()
    [1.0, 0.0]
    >>> idx.memo.learn(("^container\\\\.y$",), idx.token_log)
    >>> idx.scope_mask(("^container\\\\.y$",)).tolist()
    [False, True]
    >>> idx.scope_rows(("^container\\\\.y$",)).tolist()
    [1]
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from .scope_memo import ScopeMemo

__all__ = ["GrowableMatrix", "TenantIndex", "matvec"]

FloatMatrix = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
RowArray = npt.NDArray[np.intp]


class GrowableMatrix:
    """A matrix (float32 unless told) with amortised O(1) row appends (capacity doubles)."""

    def __init__(self, dims: int, capacity: int = 64, dtype: type[np.generic] = np.float32) -> None:
        self.dims = dims
        self._buf: npt.NDArray[Any] = np.zeros((capacity, dims), dtype=dtype)
        self.rows = 0

    def append(self, vec: npt.ArrayLike) -> int:
        if self.rows == self._buf.shape[0]:
            grown = np.zeros((self._buf.shape[0] * 2, self.dims), dtype=self._buf.dtype)
            grown[: self.rows] = self._buf[: self.rows]
            self._buf = grown
        self._buf[self.rows] = vec
        self.rows += 1
        return self.rows - 1

    def set(self, row: int, vec: npt.ArrayLike) -> None:
        self._buf[row] = vec

    def view(self) -> npt.NDArray[Any]:
        return self._buf[: self.rows]


_CHUNK = 1024
# Past this size the matrix no longer stays in the CPU caches from one search to the next; then
# numpy's einsum streams it from memory about twice as fast as OpenBLAS's gemv (100k x 256
# float32: ~5 ms against ~11 ms on a 2-core EPYC), while a matrix that fits the caches is
# several times faster through BLAS (10k x 256: ~0.15 ms against ~0.5 ms).
_BLAS_MAX_BYTES = 16 << 20


def matvec(matrix: FloatMatrix, vec: FloatMatrix) -> npt.NDArray[np.float32]:
    """``matrix @ vec`` in float32, single-threaded.

    A matrix that fits the caches goes through BLAS in blocks of 1024 rows: OpenBLAS switches
    to several threads above a size threshold, and on a small or busy machine that is several
    times slower than one thread and competes with the server's own threads. A larger one goes
    through ``np.einsum`` (one thread, see ``_BLAS_MAX_BYTES``).
    """
    vec = np.asarray(vec, dtype=np.float32)
    out = np.empty(matrix.shape[0], dtype=np.float32)
    if matrix.nbytes > _BLAS_MAX_BYTES:
        np.einsum("ij,j->i", matrix, vec, out=out)
        return out
    for start in range(0, matrix.shape[0], _CHUNK):
        np.matmul(matrix[start : start + _CHUNK], vec, out=out[start : start + _CHUNK])
    return out


_GENERATIONS = itertools.count(1)


def _capacity(rows: int) -> int:
    """The capacity growth by doubling from 64 reaches for ``rows`` rows."""
    return max(64, 1 << max(0, rows - 1).bit_length())


class TenantIndex:
    """Embeddings, scopes and adjacency of one tenant's memories (see the module doc)."""

    def __init__(
        self, dims: int, *, memo: ScopeMemo | None = None, nodes: int = 0, edges: int = 0
    ) -> None:
        """``memo``: the tenant's known scope hits (kept across rebuilds of the index).
        ``nodes`` / ``edges``: how many rows a rebuild is about to add; room for them is made
        at once (the power of two that doubling would reach), without the copies of growing."""
        self.dims = dims
        self.memo = memo or ScopeMemo()
        self.generation = next(_GENERATIONS)
        # Distinct tokens in first-seen order, and the rows whose scope was set, in order: what
        # a scope memo and a cached mask must catch up with.
        self.token_log: list[str] = []
        self.scope_log: list[int] = []
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.scopes: list[tuple[str, ...]] = []
        self.categories: list[str | None] = []
        # Inverted index: a pattern is matched against distinct tokens, not every memory.
        self.token_rows: dict[str, set[int]] = {}
        self.nodes = GrowableMatrix(dims, _capacity(nodes))
        self.adjacency: dict[str, dict[str, str]] = {}
        self.edge_keys: list[tuple[str, str]] = []
        self.edge_descriptions: list[str] = []
        self.edges = GrowableMatrix(dims, _capacity(edges))
        self.version = 0
        # Per pattern list: a growable mask and how much of ``scope_log`` it reflects.
        self._masks: dict[tuple[str, ...], tuple[BoolArray, int]] = {}
        # Row positions of each edge's two ends (rows never move: a delete rebuilds the index).
        self._edge_ends = GrowableMatrix(2, _capacity(edges), dtype=np.intp)
        # Per pattern list: (version, node rows in scope, edge rows with both ends in scope).
        self._rows: dict[tuple[str, ...], tuple[int, RowArray, RowArray]] = {}

    def _changed(self) -> None:
        self.version += 1

    def _set_scope(self, row: int, scope: tuple[str, ...]) -> None:
        for token in scope:
            rows = self.token_rows.get(token)
            if rows is None:
                rows = self.token_rows[token] = set()
                self.token_log.append(token)
            rows.add(row)
        self.scope_log.append(row)

    def add_node(
        self, memory_id: str, scope: tuple[str, ...], category: str | None, vec: FloatMatrix
    ) -> None:
        row = self.nodes.append(vec)
        self.pos[memory_id] = row
        self.ids.append(memory_id)
        self.scopes.append(scope)
        self.categories.append(category)
        self.adjacency.setdefault(memory_id, {})
        self._set_scope(row, scope)
        self._changed()

    def update_node(
        self, memory_id: str, scope: tuple[str, ...], category: str | None, vec: FloatMatrix
    ) -> None:
        row = self.pos[memory_id]
        self.nodes.set(row, vec)
        for token in self.scopes[row]:
            self.token_rows[token].discard(row)
        self.scopes[row] = scope
        self.categories[row] = category
        self._set_scope(row, scope)
        self._changed()

    def add_edge(self, a: str, b: str, description: str, vec: FloatMatrix) -> None:
        self.adjacency.setdefault(a, {})[b] = description
        self.adjacency.setdefault(b, {})[a] = description
        self.edge_keys.append((a, b))
        self.edge_descriptions.append(description)
        self.edges.append(vec)
        self._edge_ends.append((self.pos[a], self.pos[b]))
        self._changed()

    def node_scores(self, query: FloatMatrix) -> npt.NDArray[np.float32]:
        return matvec(self.nodes.view(), query)

    def edge_scores(self, query: FloatMatrix) -> npt.NDArray[np.float32]:
        return matvec(self.edges.view(), query)

    def edge_endpoints(self) -> tuple[RowArray, RowArray]:
        """Row positions of each edge's two endpoints."""
        ends = self._edge_ends.view()
        return ends[:, 0], ends[:, 1]

    def scope_mask(self, patterns: tuple[str, ...]) -> BoolArray:
        """Which nodes pass every pattern, from the memo's known hits (a token it does not know
        counts as no hit: the engine has every token matched before it asks). Cached per
        pattern list; the rows set since are brought up to date with lookups."""
        hits = self.memo.hits(patterns)
        cached = self._masks.get(patterns)
        if cached is None:
            mask = np.ones(max(64, len(self.ids)), dtype=np.bool_)
            for matched in hits:
                hit = np.zeros(len(mask), dtype=np.bool_)
                for token in matched:
                    rows = self.token_rows.get(token)
                    if rows:
                        hit[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
                mask &= hit
            if len(self._masks) >= 16:
                oldest = next(iter(self._masks))
                self._masks.pop(oldest)
                self._rows.pop(oldest, None)
        else:
            mask, done = cached
            if len(mask) < len(self.ids):
                grown = np.zeros(max(2 * len(mask), len(self.ids)), dtype=np.bool_)
                grown[: len(mask)] = mask
                mask = grown
            for row in self.scope_log[done:]:
                scope = self.scopes[row]
                mask[row] = all(any(t in matched for t in scope) for matched in hits)
        self._masks[patterns] = (mask, len(self.scope_log))
        return mask[: len(self.ids)]

    def _scope_rows(self, patterns: tuple[str, ...]) -> tuple[RowArray, RowArray]:
        cached = self._rows.get(patterns)
        if cached is not None and cached[0] == self.version:
            return cached[1], cached[2]
        mask = self.scope_mask(patterns)
        nodes = np.flatnonzero(mask)
        if self.edge_keys:
            ends_a, ends_b = self.edge_endpoints()
            edges = np.flatnonzero(mask[ends_a] & mask[ends_b])
        else:
            edges = np.zeros(0, dtype=np.intp)
        self._rows[patterns] = (self.version, nodes, edges)
        return nodes, edges

    def scope_rows(self, patterns: tuple[str, ...]) -> RowArray:
        """Row positions of the nodes that pass every pattern, ascending (cached until the
        index changes)."""
        return self._scope_rows(patterns)[0]

    def scope_edge_rows(self, patterns: tuple[str, ...]) -> RowArray:
        """Positions of the edges whose two ends pass every pattern, ascending (cached until
        the index changes)."""
        return self._scope_rows(patterns)[1]

    def matches(self, memory_id: str, patterns: tuple[str, ...]) -> bool:
        """Whether one memory passes every pattern."""
        if not patterns:
            return True
        return bool(self.scope_mask(patterns)[self.pos[memory_id]])
