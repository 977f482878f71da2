"""
Serving an example on 127.0.0.1 (an ephemeral port) in the test's reactor,
and running a client script of this folder in a child process that prints
what it saw as JSON lines (the interop tests' L{PeerProcess}, bounded
waits included).
"""

import sys
from pathlib import Path

from twisted.internet import defer

from tests.interop.support import HOST, PeerProcess, within

HERE = Path(__file__).resolve().parent


class ClientScript(PeerProcess):
    """
    A client script of C{tests/examples/}, run with this interpreter.
    """

    def start(self) -> "ClientScript":
        """
        Spawn it.
        """
        argv = [sys.executable, "-u", str(HERE / self.script), *self.args]
        self.reactor.spawnProcess(self, sys.executable, argv, env=None, path=str(HERE))
        return self


def listen(reactor, site, cleanup) -> int:
    """
    Serve C{site} on an ephemeral port of 127.0.0.1 until the test ends.

    @return: the port number.
    """
    port = reactor.listenTCP(0, site, interface=HOST)
    cleanup(lambda: within(reactor, defer.maybeDeferred(port.stopListening), "the server to stop listening", 10.0))
    return port.getHost().port


async def runClient(reactor, cleanup, script: str, *args: str) -> dict:
    """
    Run C{script} with C{args} to its end (bounded); return the facts it
    printed last.
    """
    client = ClientScript(reactor, script, list(args)).start()
    cleanup(client.stop)
    events = await client.finished()
    assert events, client.describe()
    return events[-1]
