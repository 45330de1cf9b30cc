"""The memory tools apart from any framework: one definition per tool, served by every surface.

A tool is a :class:`~membrane_integrations.tools.spec.ToolSpec` (name, description, pydantic
argument model, plan over the adapter's client): :mod:`.membrain` and :mod:`.membrane` hold them,
:mod:`.errors` the text a model reads when one fails, :mod:`.prompts` the system prompts that
name them. The LangChain tools and toolkits (``membrane_integrations.langchain``) and the MCP
server (``membrane_integrations.mcp``) wrap these definitions; neither has a copy. Importing this
package imports no framework.

Example:
    >>> from membrane_integrations.tools.membrain import membrain_specs
    >>> [spec.name for spec in membrain_specs()][:2]
    ['membrain_search', 'membrain_get']
"""
