"""The stop words the offline embedders drop (kept in ``core.stopwords``; named here too).

Example:
    >>> "the" in STOP_WORDS
    True
"""

from ..core.stopwords import STOP_WORDS

__all__ = ["STOP_WORDS"]
