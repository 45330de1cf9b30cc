"""Hypothesis strategies for hostile tenancy input: ids, tokens, patterns, metadata.

The alphabet mixes what makes container confinement hard: letters in both cases, regex
metacharacters, percent signs, whitespace, and Unicode letters that case-fold or look like
ASCII ones (the Kelvin sign, the long s, dotless and dotted i, sharp s, fullwidth ``c``,
Cyrillic a, o and es, accented letters).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.membrain.tenancy import Tenancy, encode_container_id

# Kelvin sign, long s, dotless i, dotted I, sharp s, capital sharp s, fullwidth c, Cyrillic a o c,
# e acute, E acute, angstrom sign
UNICODE = "\u212a\u017f\u0131\u0130\u00df\u1e9e\uff43\u0430\u043e\u0441\u00e9\u00c9\u212b"
ALPHABET = "abcxyzABCXYZ019" + ".*+?^$|()[]{}\\-_:@/#&~" + "% " + UNICODE
LONG_ID = "l" * 200


def _case_variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            text,
            text.upper(),
            text.swapcase(),
            text.capitalize(),
            text.replace("k", "\u212a").replace("s", "\u017f").replace("i", "\u0131"),
            text.replace("c", "\uff43", 1),
            text.replace("o", "\u043e"),  # Cyrillic look-alike: not a case variant
        ]
    )


container_ids = st.one_of(
    st.text(alphabet=ALPHABET, min_size=1, max_size=10),
    st.sampled_from(["bob", "Bob", "BOB", "a.b", "aXb", "a|b", ".*", "%42ob", "k", LONG_ID]),
)


@st.composite
def container_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two distinct ids, often case variants or regex look-alikes of each other."""
    alice = draw(container_ids)
    bob = draw(
        st.one_of(
            _case_variants(alice),
            st.just(alice + "2"),
            st.just(alice.replace(".", "X")),
            st.just(encode_container_id(alice)),
            container_ids,
        ).filter(lambda b: b != alice and b.strip() != "" and _valid(b))
    )
    return alice, bob


def _valid(container: str) -> bool:
    try:
        Tenancy(container)
    except InvalidRequestError:
        return False
    return True


def tokens_naming(target: str) -> st.SearchStrategy[str]:
    """Tokens that try to be (or match) ``target``'s container token."""
    enc = encode_container_id(target)
    bodies = st.sampled_from([target, enc, enc.upper(), target.upper()])
    heads = st.sampled_from(["container.", "container\\.", "^container\\.", "(?i)container."])
    return st.one_of(
        st.builds(lambda h, b: h + b, heads.flatmap(_case_variants), bodies),
        st.builds(lambda b: f"^container\\.{b}$", bodies),
        st.builds(lambda b: f" container.{b}", bodies),
        st.builds(lambda b: f"container.{b}\n", bodies),
    )


def hostile_tokens(target: str) -> st.SearchStrategy[str]:
    """Tokens naming ``target``, or plain odd ones (which must be stored harmlessly)."""
    plain = st.text(alphabet=ALPHABET, min_size=1, max_size=12).filter(lambda t: t.strip())
    return st.one_of(tokens_naming(target), plain, st.just("x" * 250))


def model_patterns(target: str) -> st.SearchStrategy[list[str]]:
    """Read patterns a model might send: wide ones, and ones aimed at ``target``."""
    aimed = st.sampled_from(
        [".*", "container", "^container\\..*", "(?i)CONTAINER", "", "|", "a|.*"]
    )
    return st.lists(st.one_of(aimed, tokens_naming(target)), max_size=3)


def hostile_metadata(target: str) -> st.SearchStrategy[dict[str, Any]]:
    """AutoGen metadata that tries to name ``target``'s container (keys, values, scope)."""
    enc = encode_container_id(target)
    keys = st.sampled_from(["container", "CONTAINER", "Container"]).flatmap(_case_variants)
    values = st.sampled_from([target, enc, enc.upper()])
    return st.one_of(
        st.dictionaries(keys, values, min_size=1, max_size=2),
        st.builds(
            lambda toks: {"scope": toks}, st.lists(tokens_naming(target), min_size=1, max_size=2)
        ),
        st.builds(lambda k, v: {k: v}, st.text(alphabet=ALPHABET, min_size=1, max_size=6), values),
        st.builds(lambda v: {"type": v}, hostile_tokens(target)),
    )
