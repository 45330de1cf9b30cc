"""Package names that are imported on first access (PEP 562), for every package of ours.

A package lists ``name -> module`` (relative to the package, or absolute) and takes the module
``__getattr__`` and ``__dir__`` this builds, so importing it loads none of those modules: a user
of one backend or framework never pays for another's (``benchmarks/import_time.py``).

Example:
    >>> namespace: dict[str, object] = {}
    >>> getattr_, dir_ = lazy_exports("json", {"dumps": "json"}, namespace)
    >>> getattr_("dumps")({"a": 1}), "dumps" in namespace, dir_()
    ('{"a": 1}', True, ['dumps'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ._extras import requires_extra

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    names: Mapping[str, str],
    namespace: dict[str, Any],
    *,
    extra: str | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the lazily imported ``names``.

    ``extra`` is the package's extra: a missing dependency then raises
    :class:`~membrane_integrations._extras.MissingExtraError` naming what to install.

    ``namespace`` is the package's ``globals()``: a name, once imported, is kept there, so the
    module's ``__getattr__`` is not called for it again.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if extra is None:
            value = getattr(importlib.import_module(module, package), name)
        else:
            with requires_extra(extra):
                value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
