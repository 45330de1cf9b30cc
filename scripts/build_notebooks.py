"""Build notebooks/*.ipynb from their sources in notebooks/_build/*.py, and execute them.

The sources use the "percent" format: ``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell whose lines are commented with ``# ``. Reviewing a notebook change is reviewing a
plain Python file; the .ipynb files are what users open.

    python scripts/build_notebooks.py            # write notebooks/*.ipynb, run them, keep outputs
    python scripts/build_notebooks.py --no-run   # only write them, without outputs
    python scripts/build_notebooks.py 02_rag_retriever   # one notebook

Execution uses nbclient with the ``python3`` kernel of the running interpreter, a timeout per
cell, and fails on the first error. Run it with no network and no keys for the committed outputs
(unset OPENAI_API_KEY, MEMBRAIN_API_KEY and MEMBRAIN_BASE_URL).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "_build"
OUTPUT = ROOT / "notebooks"
CELL = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")
CELL_TIMEOUT = 120


def parse(source: str) -> nbformat.NotebookNode:
    """The notebook described by a percent-format source (see the module docstring)."""
    cells: list[tuple[bool, list[str]]] = []
    for line in source.splitlines():
        match = CELL.match(line)
        if match:
            cells.append((bool(match.group("markdown")), []))
        elif cells:
            cells[-1][1].append(line)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (markdown, lines) in enumerate(cells):
        if markdown:
            text = "\n".join(re.sub(r"^# ?", "", ln) for ln in lines).strip()
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines).strip())
        cell["id"] = f"cell-{index:02d}"
        notebook.cells.append(cell)
    return notebook


def execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = CELL_TIMEOUT) -> None:
    """Run every cell in a fresh kernel (raises ``CellExecutionError`` on the first error)."""
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    ).execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--no-run", action="store_true", help="write without executing")
    args = parser.parse_args(argv)
    for leaked in ("OPENAI_API_KEY", "MEMBRAIN_API_KEY", "MEMBRAIN_BASE_URL"):
        if os.environ.get(leaked) and not args.no_run:
            print(f"refusing to record outputs with {leaked} set (unset it)", file=sys.stderr)
            return 2
    sources = sorted(SOURCES.glob("[0-9]*.py"))
    if args.names:
        sources = [s for s in sources if s.stem in args.names]
    for source in sources:
        notebook = parse(source.read_text())
        if not args.no_run:
            print(f"running {source.stem} ...", flush=True)
            execute(notebook, OUTPUT)
        target = OUTPUT / f"{source.stem}.ipynb"
        nbformat.write(notebook, target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
