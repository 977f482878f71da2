"""
The SSE core is sans-I/O: importing it pulls in no Twisted (see DESIGN.md,
"Layers"), it reads no clock, and its only randomness (the epoch) can be
injected.
"""

import inspect
import subprocess
import sys

CHECK = """
import sys
import rtproto.sse
import rtproto.sse._encoding
import rtproto.sse._history
bad = sorted(m for m in sys.modules if m == "twisted" or m.startswith("twisted.") or m == "asyncio")
print(repr(bad))
"""


def test_importDoesNotImportTwisted():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_noClockInTheCore():
    """
    The core modules never ask for the time themselves.
    """
    from rtproto.sse import _encoding, _history

    for module in (_encoding, _history):
        source = inspect.getsource(module)
        assert "import time" not in source and "from time" not in source, module
        assert "datetime" not in source and "monotonic(" not in source, module


def test_randomnessInjectable():
    """
    The epoch, the only random thing, comes from the C{token} argument.
    """
    from rtproto.sse import EventIds

    assert EventIds(token=lambda: "t0").epoch == "t0"
    assert "import random" not in inspect.getsource(sys.modules["rtproto.sse._history"])


def test_publicNames():
    import rtproto.sse

    assert sorted(rtproto.sse.__all__) == [
        "EventIds", "History", "SSEHandler", "SSEOptions", "encodeComment", "encodeEvent", "encodeRetry",
    ]
    for name in rtproto.sse.__all__:
        assert getattr(rtproto.sse, name).__doc__, name
