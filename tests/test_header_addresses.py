"""The address fast path reads every header value the way the stdlib's address parser does."""

from __future__ import annotations

from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.mail.headers import addresses

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .'-éüßÀ\"(),;:<>@"
LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABC0123456789._+-"
DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.-"


def _stdlib(value: str) -> list[tuple[str, str]]:
    return [(n.strip(), a.strip().lower()) for n, a in getaddresses([value]) if "@" in a]


@settings(max_examples=400, deadline=None)
@given(
    name=st.text(NAME_CHARS, max_size=30),
    local=st.text(LOCAL_CHARS, min_size=1, max_size=12),
    domain=st.text(DOMAIN_CHARS, min_size=1, max_size=12),
    shape=st.sampled_from(["{n} <{a}>", "<{a}>", "{a}", " {n}  <{a}> ", "{n}<{a}>"]),
)
def test_fast_path_agrees_with_the_stdlib(name: str, local: str, domain: str, shape: str) -> None:
    value = shape.format(n=name, a=f"{local}@{domain}")
    assert addresses([value]) == _stdlib(value)


def test_several_values_and_odd_ones_go_to_the_stdlib() -> None:
    values = ["Pat Rep <pat@x.example>", '"Doe, Jane" <jane@x.example>, bob@y.example']
    assert addresses(values) == [
        ("Pat Rep", "pat@x.example"),
        ("Doe, Jane", "jane@x.example"),
        ("", "bob@y.example"),
    ]
