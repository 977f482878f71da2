"""
The engine.io core is sans-I/O: importing it pulls in no Twisted (see
DESIGN.md, "Layers"), and it reads no clock (time is passed in).
"""

import subprocess
import sys

CHECK = """
import sys
import rtproto.engineio
import rtproto.engineio._packets, rtproto.engineio._payload, rtproto.engineio._session
import rtproto.engineio._server, rtproto.engineio._options, rtproto.engineio._handler
bad = sorted(m for m in sys.modules if m == "twisted" or m.startswith("twisted.") or m == "asyncio")
print(repr(bad))
"""


def test_importDoesNotImportTwisted():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_noClockInTheCore():
    """
    The core modules never ask for the time themselves.
    """
    import inspect

    from rtproto.engineio import _packets, _payload, _server, _session

    for module in (_packets, _payload, _server, _session):
        source = inspect.getsource(module)
        assert "import time" not in source and "from time" not in source
        assert "monotonic(" not in source
