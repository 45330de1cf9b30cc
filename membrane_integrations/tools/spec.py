"""One memory tool, framework-neutral: name, description, argument model and plan.

A :class:`ToolSpec` is everything a tool is, apart from the framework that serves it: the name
and description the model sees, the pydantic model of its arguments (whose JSON schema the model
fills in), and its plan: a generator over the adapter's calls
(:mod:`membrane_integrations.core.plan`) given the settings the application fixed (``C``: the
container, the trust context) and the validated arguments, returning ``(text for the model,
typed result)``. The LangChain tool classes and the MCP server both wrap these specs; neither
has its own copy.

Example:
    >>> from pydantic import BaseModel
    >>> class EchoArgs(BaseModel):
    ...     text: str
    >>> def echo(settings: str, args: dict) -> Plan:
    ...     return f"{settings}: {args['text']}", None
    ...     yield  # a plan is a generator, even one that calls nothing
    >>> spec = ToolSpec("echo", "Repeat the text.", EchoArgs, echo)
    >>> from membrane_integrations.core.plan import drive_sync
    >>> drive_sync(spec.plan("bob", spec.validate({"text": "hi"})), client=None)
    ('bob: hi', None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..core.plan import ToolPlan

__all__ = ["Plan", "ToolSpec"]

C = TypeVar("C")
Plan = ToolPlan


@dataclass(frozen=True)
class ToolSpec(Generic[C]):
    """A memory tool apart from its framework.

    Attributes:
        name: the tool name the model calls (``membrain_search``).
        description: what the model reads to decide when to call it.
        args: the pydantic model of the arguments (``extra="forbid"``).
        plan: ``plan(settings, validated_args)``: the adapter calls, then the text and result.
    """

    name: str
    description: str
    args: type[BaseModel]
    plan: Callable[[C, dict[str, Any]], ToolPlan]

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments checked and completed with defaults (raises ``ValidationError``)."""
        return self.args.model_validate(dict(raw)).model_dump()

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as a model fills them in."""
        return self.args.model_json_schema()
