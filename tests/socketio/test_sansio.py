"""
The socket.io core is sans-I/O: importing it pulls in no Twisted (see
DESIGN.md, "Layers"), and it reads no clock.
"""

import subprocess
import sys

CHECK = """
import sys
import rtproto.socketio
import rtproto.socketio._packets
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
    import inspect

    from rtproto.socketio import _packets

    source = inspect.getsource(_packets)
    assert "import time" not in source and "from time" not in source
    assert "monotonic(" not in source
