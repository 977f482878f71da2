"""
RFC 6455 section 5.3 masking: the optional C helper and the pure-Python
fallback give the same bytes for every length and alignment.
"""

import os

import pytest

from rtproto.websocket import _frames


def test_fallbackKnownAnswer():
    """
    Section 5.3: octet i of the result is octet i of the data XOR octet
    i mod 4 of the key.
    """
    data = bytes(range(10))
    key = b"\x01\x02\x04\x08"
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert _frames._maskPython(data, key) == expected


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 125, 126, 65535, 65536, 100003])
def test_sameAsFallback(n):
    data = os.urandom(n)
    key = os.urandom(4)
    assert _frames.mask(data, key) == _frames._maskPython(data, key)
    assert _frames.mask(_frames.mask(data, key), key) == data


def test_speedupsBuilt():
    """
    The C helper is built in development and CI installs (a machine without a
    compiler still works, through the fallback, but would be slow).
    """
    from rtproto.websocket import _speedups

    assert _frames.mask is _speedups.mask
