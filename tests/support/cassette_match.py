"""A VCR body matcher that ignores Membrain add tokens (random per add, so never recorded alike).

Every add stores a fresh ``^(?:add\\.<hex>)?`` token (``membrain/_add_token.py``). Two request
bodies match when they are equal once those tokens are left out of their ``scope`` lists; every
other byte must still be the same.
"""

from __future__ import annotations

import json
from typing import Any

from membrane_integrations.membrain._add_token import is_add_token

__all__ = ["body_without_add_tokens"]


def _normal(body: Any) -> Any:
    if body is None:
        return None
    text = body.decode() if isinstance(body, bytes) else str(body)
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and isinstance(data.get("scope"), list):
        data["scope"] = [t for t in data["scope"] if not (isinstance(t, str) and is_add_token(t))]
    return data


def body_without_add_tokens(r1: Any, r2: Any) -> None:
    """VCR matcher: raise ``AssertionError`` unless the bodies match (add tokens aside)."""
    assert _normal(r1.body) == _normal(r2.body), "bodies differ (add tokens aside)"
