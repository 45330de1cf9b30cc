"""The in-memory vector and graph index of one tenant, rebuilt from SQLite when invalidated.

Nodes (memory embeddings) and edges (link-description embeddings) live in growable float32
matrices, so an insert appends a row instead of copying the whole matrix, and a search is one
matrix-vector product. Scope masks are cached per pattern list (matched against the distinct
scope tokens, not every memory) and extended on insert; the rows and edges in scope derived
from a mask are cached until the index changes.

Example:
    >>> import numpy as np
    >>> idx = TenantIndex(dims=2)
    >>> idx.add_node("a", ("container.x",), None, np.array([1.0, 0.0], dtype=np.float32))
    >>> idx.add_node("b", ("container.y",), None, np.array([0.0, 1.0], dtype=np.float32))
    >>> idx.node_scores(np.array([1.0, 0.0], dtype=np.float32)).tolist()
    [1.0, 0.0]
    >>> idx.scope_mask(("^container\\\\.y$",)).tolist()
    [False, True]
    >>> idx.scope_rows(("^container\\\\.y$",)).tolist()
    [1]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["GrowableMatrix", "TenantIndex", "compile_patterns", "matvec", "tokens_match"]

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


def compile_patterns(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Compile scope patterns case-insensitively (raises ``re.error`` on a bad one)."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def tokens_match(compiled: Sequence[re.Pattern[str]], tokens: Sequence[str]) -> bool:
    """AND across patterns; each pattern must match at least one token."""
    return all(any(c.search(t) for t in tokens) for c in compiled)


def _capacity(rows: int) -> int:
    """The capacity growth by doubling from 64 reaches for ``rows`` rows."""
    return max(64, 1 << max(0, rows - 1).bit_length())


class TenantIndex:
    """Embeddings, scopes and adjacency of one tenant's memories (see the module doc)."""

    def __init__(self, dims: int, *, nodes: int = 0, edges: int = 0) -> None:
        """``nodes`` / ``edges``: how many rows a rebuild is about to add; room for them is made
        at once (the power of two that doubling would reach), without the copies of growing."""
        self.dims = dims
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
        # Per pattern list: the compiled patterns and a growable mask (extended on insert).
        self._masks: dict[tuple[str, ...], tuple[list[re.Pattern[str]], BoolArray]] = {}
        # Row positions of each edge's two ends (rows never move: a delete rebuilds the index).
        self._edge_ends = GrowableMatrix(2, _capacity(edges), dtype=np.intp)
        # Per pattern list: (version, node rows in scope, edge rows with both ends in scope).
        self._rows: dict[tuple[str, ...], tuple[int, RowArray, RowArray]] = {}

    def _changed(self) -> None:
        self.version += 1

    def _mask_row(self, row: int, scope: tuple[str, ...]) -> None:
        for key, (compiled, mask) in list(self._masks.items()):
            if row >= len(mask):
                grown = np.zeros(max(64, 2 * len(mask)), dtype=np.bool_)
                grown[: len(mask)] = mask
                self._masks[key] = (compiled, grown)
                mask = grown
            mask[row] = tokens_match(compiled, scope)

    def add_node(
        self, memory_id: str, scope: tuple[str, ...], category: str | None, vec: FloatMatrix
    ) -> None:
        row = self.nodes.append(vec)
        self.pos[memory_id] = row
        self.ids.append(memory_id)
        self.scopes.append(scope)
        self.categories.append(category)
        self.adjacency.setdefault(memory_id, {})
        for token in scope:
            self.token_rows.setdefault(token, set()).add(row)
        self._mask_row(row, scope)
        self._changed()

    def update_node(
        self, memory_id: str, scope: tuple[str, ...], category: str | None, vec: FloatMatrix
    ) -> None:
        row = self.pos[memory_id]
        self.nodes.set(row, vec)
        for token in self.scopes[row]:
            self.token_rows[token].discard(row)
        for token in scope:
            self.token_rows.setdefault(token, set()).add(row)
        self.scopes[row] = scope
        self.categories[row] = category
        self._mask_row(row, scope)
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
        """Which nodes pass every pattern (cached per pattern list)."""
        cached = self._masks.get(patterns)
        if cached is not None:
            return cached[1][: len(self.ids)]
        compiled = compile_patterns(patterns)
        mask = np.ones(len(self.ids), dtype=np.bool_)
        for pattern in compiled:
            hit = np.zeros(len(self.ids), dtype=np.bool_)
            for token, rows in self.token_rows.items():
                if rows and pattern.search(token):
                    hit[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
            mask &= hit
        if len(self._masks) >= 16:
            oldest = next(iter(self._masks))
            self._masks.pop(oldest)
            self._rows.pop(oldest, None)
        self._masks[patterns] = (compiled, mask)
        return mask

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
