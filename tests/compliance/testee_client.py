"""
rtproto's WebSocket client as an Autobahn testsuite testee.

Talks to C{wstest -m fuzzingserver} the usual way: read the number of cases
from C{/getCaseCount}, run each one at C{/runCase?case=N&agent=AGENT}
echoing every message back (text as text, binary as binary), then ask for
the reports at C{/updateReports?agent=AGENT}.  Whether the cases pass is
for the report to say: this exits 0 once every session has ended, whatever
happened in it, and non-zero only if the suite itself could not be driven.

Usage, from the repository root::

    python tests/compliance/testee_client.py --url ws://127.0.0.1:9001 --agent rtproto
"""

import argparse
import json
import sys
from urllib.parse import quote

from twisted.internet import defer, task
from twisted.logger import globalLogBeginner, textFileLogObserver

from rtproto.tx.client import connect
from rtproto.websocket import WebSocketHandler, WebSocketOptions


class SessionHandler(WebSocketHandler):
    """
    One testee connection: echoes every message, or records text messages
    when C{echo} is false; C{self.ended} fires once the connection is gone.
    """

    def __init__(self, echo=True):
        super().__init__()
        self.echo = echo
        self.connection = None
        self.texts = []
        self.ended = defer.Deferred()

    def connectionOpened(self, connection):
        super().connectionOpened(connection)
        self.connection = connection

    def textReceived(self, text):
        if self.echo:
            self.connection.sendText(text)
        else:
            self.texts.append(text)

    def binaryReceived(self, data):
        if self.echo:
            self.connection.sendBinary(data)

    def connectionClosed(self, code, reason, wasClean):
        if not self.ended.called:
            self.ended.callback((code, reason, wasClean))


async def session(reactor, url, options, timeout, echo=True):
    """
    Open one connection to C{url} and wait, at most C{timeout} seconds,
    until it ends.

    @return: the L{SessionHandler}, or L{None} if the connection could not
        be opened or did not end in time (it is then aborted).
    """
    handler = SessionHandler(echo)
    try:
        await connect(url, lambda: handler, reactor=reactor, options=options)
    except Exception as e:
        print(f"  {url}: connection failed: {e!r}", flush=True)
        if not handler.ended.called:
            return None
    try:
        await handler.ended.addTimeout(timeout, reactor)
    except defer.TimeoutError:
        print(f"  {url}: still open after {timeout}s, aborting", flush=True)
        if handler.connection is not None:
            handler.connection.abort()
        return None
    return handler


async def runSuite(reactor, base, agent, caseTimeout):
    """
    Drive the whole suite against the fuzzing server at C{base}.

    @return: the process exit status.
    """
    options = WebSocketOptions(
        maxMessageSize=0, maxFrameSize=0, pingInterval=0, compression=True
    )
    counter = await session(reactor, f"{base}/getCaseCount", options, caseTimeout, echo=False)
    if counter is None or not counter.texts:
        print("could not get the case count", flush=True)
        return 2
    count = json.loads(counter.texts[0])
    print(f"running {count} cases as agent {agent!r}", flush=True)
    agentQuery = quote(agent, safe="")
    for case in range(1, count + 1):
        print(f"case {case}/{count}", flush=True)
        await session(reactor, f"{base}/runCase?case={case}&agent={agentQuery}",
                      options, caseTimeout)
    updated = await session(reactor, f"{base}/updateReports?agent={agentQuery}",
                            options, caseTimeout, echo=False)
    if updated is None:
        print("could not update the reports", flush=True)
        return 2
    print("reports updated", flush=True)
    return 0


def main(reactor, argv):
    """
    Parse C{argv} and run the suite; for L{task.react}.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the fuzzing server, ws://host:port")
    parser.add_argument("--agent", default="rtproto", help="agent name for the reports")
    parser.add_argument("--case-timeout", type=float, default=120.0,
                        help="seconds one case may take before it is aborted")
    args = parser.parse_args(argv)
    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )

    async def run():
        status = await runSuite(reactor, args.url.rstrip("/"), args.agent, args.case_timeout)
        if status:
            raise SystemExit(status)

    return defer.ensureDeferred(run())


if __name__ == "__main__":
    task.react(main, (sys.argv[1:],))
