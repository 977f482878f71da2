"""
A python-socketio client peer (its C{AsyncClient}: engine.io protocol 4,
socket.io protocol 5) for the interop tests: runs one named scenario of
L{tests.interop.sio_pyscenarios} against a server running the socket.io
test application (specified in C{sio_server.js}) and prints one JSON line
of observations; the tests judge them.

    python sio_pyclient.py SCENARIO URL [--transports polling,websocket]
        [--timeout SECONDS]

This module is the harness (L{Conn}, one C{AsyncClient} recording what
each of its namespaces receives) and the command line.  Every wait is
bounded by C{--timeout} (the whole run by a multiple of it).  Exit status 0
when the scenario ran to its end, 1 when it stopped on an error (the JSON
line then has C{"error"}).
"""

import argparse
import asyncio
import json
import sys
import traceback
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import socketio

from tests.interop.sio_support import canon, canonText


def compare(expected, got) -> "str | None":
    """
    C{None} when C{got} is C{expected} (canonically), else what differs.
    """
    a, b = canonText(expected), canonText(got)
    if a == b:
        return None

    def short(s: str) -> str:
        return s if len(s) <= 160 else f"{s[:80]}...({len(s)} chars)"

    return f"expected {short(a)}, got {short(b)}"


def pendingTasks() -> str:
    """
    Where every other pending asyncio task is waiting (for timeout reports).
    """
    lines = []
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in task.get_stack(limit=3))
            lines.append(f"  {task.get_coro().__qualname__}: {where}")
    return "\n".join(lines)


async def bounded(awaitable, seconds: float, what: str):
    """
    Await C{awaitable} for at most C{seconds}; on timeout, say where every
    task was waiting.
    """
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        tasks = pendingTasks()
        task.cancel()
        raise AssertionError(f"timed out after {seconds}s waiting for {what}; tasks:\n{tasks}")
    return task.result()


class Conn:
    """
    One python-socketio C{AsyncClient} (one engine.io connection) on
    C{namespaces}, reconnecting after 0.1 s, recording every event, and the
    connects, disconnects and connect errors, of each namespace.

    @ivar answers: C{(namespace, event)} -> a function of the event's
        arguments returning the ack's arguments (a tuple).  Events listed
        there are the ones the server sends with an ack id (so without an
        offset); for the others, the last argument is taken off as the
        offset.
    """

    def __init__(self, args, namespaces, auth=None, name: str = "", answers=None) -> None:
        self.args = args
        self.name = name
        self.namespaces = list(namespaces)
        self.auth = auth
        self.answers = dict(answers or {})
        self.sio = socketio.AsyncClient(
            handle_sigint=False,
            reconnection_delay=0.1,
            reconnection_delay_max=0.1,
            randomization_factor=0,
            request_timeout=args.timeout,
        )
        self.events = {ns: [] for ns in self.namespaces}
        self.life = {ns: [] for ns in self.namespaces}
        self.missingOffsets = {ns: [] for ns in self.namespaces}
        self.cursors: dict[tuple, int] = {}
        self._watchers: list[asyncio.Future] = []
        for ns in self.namespaces:
            self._register(ns)

    def _register(self, ns: str) -> None:
        """
        The handlers of namespace C{ns}.
        """

        def connect():
            self._life(ns, what="connect", sid=self.sio.get_sid(ns))

        def disconnect(reason=None):
            self._life(ns, what="disconnect", reason=None if reason is None else str(reason))

        def connectError(data=None):
            self._life(ns, what="connect_error", data=data)

        def anyEvent(event, *args):
            args = list(args)
            answer = self.answers.get((ns, event))
            offset = None
            if answer is None:
                if args and isinstance(args[-1], str):
                    offset = args.pop()
                else:
                    self.missingOffsets[ns].append(event)
            self.events[ns].append({"event": event, "args": args, "offset": offset, "acked": answer is not None})
            self._changed()
            return None if answer is None else answer(args)

        self.sio.on("connect", connect, namespace=ns)
        self.sio.on("disconnect", disconnect, namespace=ns)
        self.sio.on("connect_error", connectError, namespace=ns)
        self.sio.on("*", anyEvent, namespace=ns)

    def _life(self, ns: str, **entry) -> None:
        self.life[ns].append(entry)
        self._changed()

    def _changed(self) -> None:
        watchers, self._watchers = self._watchers, []
        for future in watchers:
            if not future.done():
                future.set_result(None)

    async def until(self, check, what: str):
        """
        Wait until C{check()} returns something truthy, and return it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.args.timeout
        while True:
            result = check()
            if result:
                return result
            future = loop.create_future()
            self._watchers.append(future)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {self.args.timeout}s waiting for {what} ({self.name})")
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                pass

    async def open(self, wait: "list[str] | None" = None) -> None:
        """
        Connect every namespace (without python-socketio's own wait, which
        gives up on them all if one fails), then wait until each of C{wait}
        (all by default) has connected.
        """
        await bounded(
            self.sio.connect(
                self.args.url, namespaces=self.namespaces, transports=self.args.transports, auth=self.auth, wait=False
            ),
            self.args.timeout,
            "the engine.io connection",
        )
        for ns in self.namespaces if wait is None else wait:
            await self.lifeEvent(ns, "connect")

    async def lifeEvent(self, ns: str, what: str, n: int = 1) -> dict:
        """
        The C{n}-th lifecycle entry of kind C{what} of namespace C{ns}.
        """

        def check():
            found = [e for e in self.life[ns] if e["what"] == what]
            return found[n - 1] if len(found) >= n else None

        return await self.until(check, f"{what} #{n} on {ns}")

    async def next(self, ns: str, event: str) -> dict:
        """
        The next not yet taken C{event} of namespace C{ns} (its record).
        """

        def check():
            events = self.events[ns]
            for i in range(self.cursors.get((ns, event), 0), len(events)):
                if events[i]["event"] == event:
                    self.cursors[(ns, event)] = i + 1
                    return events[i]
            return None

        return await self.until(check, f'a "{event}" event on {ns}')

    async def emit(self, ns: str, event: str, *args) -> None:
        """
        Emit C{event} with C{args} (each one argument) on C{ns}.
        """
        await self.sio.emit(event, tuple(args), namespace=ns)

    async def call(self, ns: str, event: str, *args) -> list:
        """
        Emit with an ack; return the ack's arguments.
        """
        future = asyncio.get_running_loop().create_future()

        def ack(*response):
            if not future.done():
                future.set_result(list(response))

        await self.sio.emit(event, tuple(args), namespace=ns, callback=ack)
        return await bounded(future, self.args.timeout, f'the ack of "{event}" on {ns} ({self.name})')

    async def whoami(self, ns: str) -> dict:
        return (await self.call(ns, "whoami"))[0]

    def summary(self, ns: str) -> "list[str]":
        """
        The events received on C{ns}, as comparable strings.
        """
        return [("ack-requested " if e["acked"] else "") + e["event"] + " " + canonText(e["args"]) for e in self.events[ns]]

    def offsets(self, ns: str) -> dict:
        """
        Offsets seen on C{ns}: how many, how many distinct, which events
        lacked one.
        """
        found = [e["offset"] for e in self.events[ns] if not e["acked"]]
        return {
            "count": sum(o is not None for o in found),
            "distinct": len(set(found)),
            "missing": self.missingOffsets[ns],
        }

    async def close(self) -> None:
        """
        Disconnect (bounded), once the outgoing queue is idle.
        """
        if self.sio.connected:
            await bounded(self.sio.eio.queue.join(), self.args.timeout, "the outgoing queue to drain")
        await bounded(self.sio.shutdown(), self.args.timeout, "the client to disconnect")


async def run(args) -> "tuple[int, dict]":
    """
    Run the scenario; return the exit status and the observations.
    """
    from tests.interop.sio_pyscenarios import SCENARIOS

    facts = {"scenario": args.scenario, "client": "python-socketio", "transports": args.transports}
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
    from tests.interop.sio_pyscenarios import SCENARIOS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("url")
    parser.add_argument("--transports", type=lambda s: s.split(","), default=None)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    status, facts = asyncio.run(run(args))
    # (binaries in the observations as {"$binary": hex})
    sys.stdout.write(json.dumps(canon(facts)) + "\n")
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
