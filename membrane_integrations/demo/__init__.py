"""``python -m membrane_integrations demo``: the notebooks' stories, short, in the terminal.

Membrain stories (always): a LangChain agent with the Membrain toolkit learns facts about a user
and uses them in a new conversation; ``MembrainRetriever`` in an LCEL RAG chain (the
container, then a container and time-bucket slice); an AutoGen agent with ``MembrainMemory``.
Membrane stories (when membraned is installed): typed memory with trust, reinforcement and
revision, and an AutoGen agent with ``MembraneMemory``.

By default Membrain is an in-process emulator (no key, no network). With ``--base-url`` and
``--api-key`` (or ``MEMBRAIN_BASE_URL`` and ``MEMBRAIN_API_KEY`` both set) the stories run
against a hosted Membrain, in one-off ``container.demo-<random>-*`` containers that are deleted
at the end. The chat model is an offline deterministic one unless ``OPENAI_API_KEY`` is set and
the OpenAI extras are installed. The story goes to stdout; progress to stderr (a spinner on a
terminal, one line per wait otherwise).

The public names are :func:`run_demo` and ``Backend``. The modules beside them are the demo's
and the notebooks' helpers (progress output, model choice, the stories, membraned gating), not
public API; the notebooks import them so that no helper code is pasted into them.

Example:
    >>> from membrane_integrations.demo.models import memory_answer
    >>> memory_answer("Relevant memories:\\n1. Bob is vegan")
    'From memory: Bob is vegan'
"""

from .._extras import requires_extra

with requires_extra("demo"):
    from .run import Backend, run_demo

__all__ = ["Backend", "run_demo"]
