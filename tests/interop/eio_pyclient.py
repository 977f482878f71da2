"""
A python-engineio client peer (its asyncio client, engine.io protocol 4)
for the interop tests: runs one scenario against a server running the
command application (L{tests.interop.eio_app} on rtproto, C{eio_commands.js}
on the reference server) and prints one JSON line of observations; the
tests judge them.

    python eio_pyclient.py SCENARIO URL [--transports polling,websocket]
        [--timeout SECONDS]

Scenarios: C{basic}, C{upgrade}, C{disconnect}, C{reconnect}.  Every wait
is bounded by C{--timeout} (the whole run by a multiple of it).  Exit
status 0 when the scenario ran to its end, 1 when it stopped on an error
(the JSON line then has C{"error"}).

python-engineio decodes a message that parses as JSON (C{'[1]'},
C{'true'}) into a Python value, so no scenario sends such strings.
"""

import argparse
import asyncio
import json
import sys
import traceback
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import engineio  # noqa: E402

from tests.interop.eio_app import summary, unicodeText  # noqa: E402


def describe(message) -> str:
    """
    A short description of a message for failure reports.
    """
    if isinstance(message, str):
        return json.dumps(message) if len(message) <= 60 else f"text({len(message)} chars)"
    if isinstance(message, (bytes, bytearray)):
        return f"binary<{bytes(message).hex()}>" if len(message) <= 24 else f"binary({len(message)} bytes)"
    return f"{type(message).__name__}({message!r})"


def compare(expected, got) -> "str | None":
    """
    C{None} when C{got} is C{expected} (same type and value), else what
    differs.
    """
    if type(expected) is type(got) and expected == got:
        return None
    return f"expected {describe(expected)}, got {describe(got)}"


def pendingTasks() -> str:
    """
    Where every other pending asyncio task is waiting (for timeout reports).
    """
    lines = []
    for task in asyncio.all_tasks():
        if task is asyncio.current_task():
            continue
        frames = task.get_stack(limit=3)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames)
        lines.append(f"  {task.get_coro().__qualname__}: {where}")
    return "\n".join(lines)


class Session:
    """
    One python-engineio client session with a queue of received messages.
    """

    def __init__(self, args) -> None:
        self.args = args
        self.client = engineio.AsyncClient(handle_sigint=False, request_timeout=args.timeout)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.disconnected = asyncio.Event()
        self.disconnectReason = None
        self.client.on("message", self._message)
        self.client.on("disconnect", self._disconnect)

    def _message(self, data) -> None:
        self.inbox.put_nowait(data)

    def _disconnect(self, *reason) -> None:
        self.disconnectReason = str(reason[0]) if reason else None
        self.disconnected.set()

    async def open(self) -> None:
        """
        Connect (bounded).
        """
        await self.bounded(
            self.client.connect(self.args.url, transports=self.args.transports), "the connection to open"
        )

    async def bounded(self, awaitable, what: str):
        """
        Await C{awaitable} for at most C{--timeout} seconds; on timeout, say
        where every task was waiting.
        """
        task = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({task}, timeout=self.args.timeout)
        if not done:
            tasks = pendingTasks()
            task.cancel()
            raise AssertionError(f"timed out after {self.args.timeout}s waiting for {what}; tasks:\n{tasks}")
        return task.result()

    async def next(self, what: str):
        """
        The next message (bounded wait).
        """
        return await self.bounded(self.inbox.get(), what)

    async def ask(self, command: str) -> str:
        """
        Send a command and return its text reply.
        """
        await self.client.send(command)
        reply = await self.next(f"the reply to {command!r}")
        if not isinstance(reply, str):
            raise AssertionError(f"the reply to {command!r} was {describe(reply)}")
        return reply

    async def disconnect(self) -> None:
        """
        Disconnect cleanly, once python-engineio's write loop is idle: if
        C{disconnect()} runs while a post is still in flight, the loop
        exits after that post without sending the close packet it queued
        (and, on polling, the client then waits forever for its poll).
        """
        await self.bounded(self.client.queue.join(), "the client's outgoing queue to drain")
        await self.bounded(self.client.disconnect(), "the client to disconnect")

    @property
    def sid(self) -> str:
        return self.client.sid

    @property
    def transport(self) -> str:
        return self.client.transport()


async def echoCases(s: Session, cases) -> list:
    """
    Send each C{(name, message)} and compare its echo.
    """
    results = []
    for name, value in cases:
        await s.client.send(value)
        got = await s.next(f"the echo of {name}")
        results.append({"name": name, "problem": compare(value, got), "receivedType": type(got).__name__})
    return results


async def basic(args, facts) -> None:
    """
    Small messages of every kind echo back; a mixed burst; what the server
    recorded; a clean disconnect.
    """
    s = Session(args)
    await s.open()
    facts["transportAtOpen"] = s.transport
    facts["sid"] = s.sid
    cases = [
        ("hello", "hello"),
        ("empty text", ""),
        ("unicode text", unicodeText(33)),
        ("digits", "42"),
        ("text starting with b", "bAQID"),
        ("bytes", bytes([0, 1, 2, 3, 254, 255])),
        ("256 bytes", bytes(range(256))),
        ("empty bytes", b""),
        ("one NUL byte", b"\x00"),
        ("text after binary", "after binary"),
    ]
    facts["echoes"] = await echoCases(s, cases)
    facts["expectedReceived"] = [summary(v) for _, v in cases]
    await s.client.send("mixed:6")
    mixed = [await s.next(f"mixed message {i}") for i in range(6)]
    facts["mixed"] = [m if isinstance(m, str) else "binary:" + bytes(m).decode("utf-8", "replace") for m in mixed]
    facts["protocolReply"] = await s.ask("protocol?")
    facts["transportReply"] = await s.ask("transport?")
    facts["clientTransport"] = s.transport
    facts["sidReply"] = await s.ask("sid?")
    facts["serverReceived"] = json.loads((await s.ask("received?")).removeprefix("received:"))
    facts["closedEarly"] = s.disconnectReason
    await s.disconnect()


async def upgrade(args, facts) -> None:
    """
    The default transports (python-engineio upgrades during C{connect}):
    the session ends on WebSocket, and a burst and 200 numbered messages
    (every third one binary) go through in order.
    """
    args.transports = ["polling", "websocket"]
    s = Session(args)
    await s.open()
    facts["transportAtOpen"] = s.transport
    await s.client.send("burst:200")
    sentValues, labels = [], []
    for i in range(200):
        label = f"c{i}"
        value = label.encode() if i % 3 == 2 else label
        await s.client.send(value)
        sentValues.append(value)
        labels.append("binary:" + label if i % 3 == 2 else label)
    burst, echoes, other = [], [], []
    while len(burst) < 200 or len(echoes) < len(labels):
        m = await s.next(f"burst message {len(burst)} / echo {len(echoes)}")
        label = m if isinstance(m, str) else "binary:" + bytes(m).decode("utf-8", "replace")
        if isinstance(m, str) and m.startswith("m"):
            burst.append(m)
        elif label.removeprefix("binary:").startswith("c"):
            echoes.append(label)
        else:
            other.append(label)
            if len(other) > 10:
                break
    facts.update(
        burst=burst,
        expectedBurst=[f"m{i}" for i in range(200)],
        echoes=echoes,
        expectedEchoes=labels,
        unexpected=other,
    )
    facts["transportReply"] = await s.ask("transport?")
    facts["clientTransport"] = s.transport
    facts["serverUpgrades"] = json.loads((await s.ask("upgrades?")).removeprefix("upgrades:"))
    facts["serverReceived"] = json.loads((await s.ask("received?")).removeprefix("received:"))
    facts["expectedReceived"] = [summary(v) for v in sentValues]
    await s.disconnect()


async def disconnect(args, facts) -> None:
    """
    A clean client disconnect, seen by the server.
    """
    s = Session(args)
    await s.open()
    facts["transportAtOpen"] = s.transport
    facts["sid"] = s.sid
    facts["echo"] = await s.ask("before close")
    facts["transportAtClose"] = s.transport
    await s.disconnect()
    facts["clientClose"] = {"reason": s.disconnectReason}
    t = Session(args)
    await t.open()
    facts["secondSid"] = t.sid
    facts["serverCloseReason"] = (await t.ask("whenclosed:" + facts["sid"])).removeprefix("closed:")
    await t.bounded(t.client.disconnect(abort=True), "the client to disconnect")


async def reconnect(args, facts) -> None:
    """
    The server drops the session; a new session works.
    """
    s = Session(args)
    await s.open()
    facts["transportAtOpen"] = s.transport
    facts["sid"] = s.sid
    facts["sidReply"] = await s.ask("sid?")
    loop = asyncio.get_running_loop()
    start = loop.time()
    await s.client.send("drop")
    await s.bounded(s.disconnected.wait(), "the server to drop the session")
    facts["clientClose"] = {"reason": s.disconnectReason}
    facts["secondsToDisconnect"] = round(loop.time() - start, 3)
    # (Not waiting for the old client's tasks: after a close packet from
    # the server, python-engineio's write loop idles until its ping
    # deadline, pingInterval + 5 s, before it exits.)
    t = Session(args)
    await t.open()
    facts["secondTransportAtOpen"] = t.transport
    facts["secondSid"] = t.sid
    facts["secondSidReply"] = await t.ask("sid?")
    facts["echo"] = await t.ask("again")
    facts["serverCloseReason"] = (await t.ask("whenclosed:" + facts["sid"])).removeprefix("closed:")
    await t.bounded(t.client.disconnect(abort=True), "the client to disconnect")


SCENARIOS = {"basic": basic, "upgrade": upgrade, "disconnect": disconnect, "reconnect": reconnect}


async def run(args) -> "tuple[int, dict]":
    """
    Run the scenario; return the exit status and the observations.
    """
    facts = {"scenario": args.scenario, "eio": 4, "transports": args.transports}
    try:
        await asyncio.wait_for(SCENARIOS[args.scenario](args, facts), args.timeout * 4 + 10)
    except Exception:
        facts["error"] = traceback.format_exc()
        return 1, facts
    return 0, facts


def main(argv=None) -> int:
    """
    Parse the command line, run, print the observations.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("url")
    parser.add_argument("--transports", type=lambda s: s.split(","), default=None)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    status, facts = asyncio.run(run(args))
    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
