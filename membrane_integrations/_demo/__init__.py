"""Helpers behind the demo and the notebooks: progress output, model choice, membraned gating.

Nothing here is public API; the notebooks import it so that no helper code is pasted into them.

Example:
    >>> from membrane_integrations._demo.models import memory_answer
    >>> memory_answer("Relevant memories:\\n1. Bob is vegan")
    'From memory: Bob is vegan'
"""
