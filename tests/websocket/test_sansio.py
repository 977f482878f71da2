"""
The WebSocket core is sans-I/O: importing it pulls in no Twisted (see
DESIGN.md, "Layers").
"""

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.websocket import _frames

from .helpers import xor

CHECK = """
import sys
import rtproto.websocket
import rtproto.websocket._connection, rtproto.websocket._deflate, rtproto.websocket._handshake
import rtproto.websocket._prepared, rtproto.websocket._utf8
bad = sorted(m for m in sys.modules if m == "twisted" or m.startswith("twisted."))
print(repr(bad))
"""


def test_importDoesNotImportTwisted():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100), key=st.binary(min_size=4, max_size=4))
def test_maskPython(data, key):
    """
    RFC 6455 section 5.3: octet i is XORed with key octet i MOD 4 (the
    pure Python implementation).
    """
    assert _frames._maskPython(data, key) == xor(data, key)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100), key=st.binary(min_size=4, max_size=4))
def test_maskInUse(data, key):
    """
    The same for the implementation in use (the optional C helper when
    built).
    """
    assert _frames.mask(data, key) == xor(data, key)


def test_maskKeySourceBatches():
    calls = []

    def randomBytes(n):
        calls.append(n)
        return bytes(range(n))

    source = _frames.MaskKeySource(randomBytes, batch=8)
    assert [source(), source(), source()] == [b"\x00\x01\x02\x03", b"\x04\x05\x06\x07", b"\x00\x01\x02\x03"]
    assert calls == [8, 8]
