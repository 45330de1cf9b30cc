"""IPython support for the notebooks: start membraned when installed, skip its cells otherwise.

``%load_ext membrane_integrations.demo.notebook`` registers an input transformer: a cell whose
first line is ``%%membraned`` runs unchanged (minus that line) while a daemon started by
:func:`start_membraned` is running, and otherwise only prints that it was skipped. So a notebook
that needs the daemon stops politely where it is absent, and "Run All" never shows a traceback.

Example:
    >>> _gate(["%%membraned\\n", "print(1)\\n"])[0].startswith("print('skipped")
    True
    >>> _gate(["print(1)\\n"])
    ['print(1)\\n']
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

from ..membrane.daemon import LocalMembraned, find_membraned, install_hint

__all__ = ["load_ipython_extension", "start_membraned"]

MARKER = "%%membraned"
_state: dict[str, LocalMembraned | None] = {"daemon": None}


def _gate(lines: list[str]) -> list[str]:
    if not lines or lines[0].strip() != MARKER:
        return lines
    daemon = _state["daemon"]
    if daemon is not None and daemon.running:
        return lines[1:]
    return ["print('skipped: this cell needs membraned, which is not running (see above)')\n"]


def start_membraned() -> LocalMembraned | None:
    """Start a throwaway membraned if one can be found or built; else print how to get it.

    The daemon is stopped when the kernel exits (or call ``stop()`` yourself).
    """
    binary = find_membraned(quiet=True)
    if binary is None:
        print(install_hint())
        print("The cells marked %%membraned below will be skipped.")
        return None
    daemon = LocalMembraned(binary).start()
    atexit.register(daemon.stop)
    _state["daemon"] = daemon
    # the file name only: a notebook's saved output should not carry the machine's paths
    name = Path(binary).name
    print(f"membraned ({name}) is running at {daemon.addr} with a temporary database")
    return daemon


def load_ipython_extension(ipython: Any) -> None:
    """Install the ``%%membraned`` cell gate (run by ``%load_ext``)."""
    transforms = ipython.input_transformers_cleanup
    if _gate not in transforms:
        transforms.insert(0, _gate)
