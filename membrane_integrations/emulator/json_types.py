"""Field types that read JSON the way JSON Schema does (the request models are strict).

Example:
    >>> from pydantic import BaseModel, ConfigDict
    >>> class Body(BaseModel):
    ...     model_config = ConfigDict(strict=True)
    ...     k: JsonInt
    >>> Body.model_validate({"k": 17.0}).k
    17
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

__all__ = ["JsonInt", "NonNegativeJsonInt", "PositiveJsonInt"]


def _json_integer(value: object) -> object:
    """JSON Schema's integer: an int, or a float with no fraction (``17.0``); never a bool or
    a string (a strict model refuses those: ``0`` is not ``false``, ``"5"`` is not ``5``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]

# Bounds inside the Annotated, before the validator, so they reach the JSON schema also as
# ``PositiveJsonInt | None`` (a Field on the Optional field would not).
PositiveJsonInt = Annotated[int, Field(ge=1), BeforeValidator(_json_integer)]
NonNegativeJsonInt = Annotated[int, Field(ge=0), BeforeValidator(_json_integer)]
