"""
An SSE client peer for the interop tests, in Python: asyncio and aiohttp's
streaming responses, with the stream parsed here by a small parser
following the WHATWG rules (L{Parser}) and the EventSource reconnection
rules (L{Source}: wait the C{retry} time after the stream ends, then
reconnect with the last event id, as a C{Last-Event-ID} header or, as
polyfills do, a C{lastEventId} query parameter).  Runs one named scenario
against a server serving the SSE test application (specified in the header
of C{sse_server.js}) and prints one JSON line of observations; the tests
judge them.

    python sse_pyclient.py SCENARIO URL [--channel a,b] [--token T]
        [--cases FILE] [--close-after MS] [--count N] [--reconnects N]
        [--last-event-id ID] [--via header|query] [--header "Name: value"]
        [--concurrency N] [--timeout SECONDS]

Scenarios: see L{SCENARIOS}.  Every wait is bounded by C{--timeout} (the
whole run by a multiple of it).  Exit status 0 when the scenario ran to its
end, 1 when it stopped on an error (the JSON line then has C{"error"}).
"""

import argparse
import asyncio
import codecs
import json
import re
import socket
import struct
import sys
import time
import traceback
from urllib.parse import urlencode, urlsplit

import aiohttp

LINE_END = re.compile(r"\r\n|\r|\n")
T0 = time.monotonic()


def now() -> float:
    """
    Milliseconds since the peer started.
    """
    return round((time.monotonic() - T0) * 1000, 1)


async def bounded(awaitable, seconds: float, what: str):
    """
    Await C{awaitable} at most C{seconds}; fail naming C{what}.
    """
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {seconds:g}s waiting for {what}") from None


class Parser:
    """
    The WHATWG event stream interpretation: text in (any chunking), events,
    comments and C{retry} values out.  Lines end at CRLF, CR or LF (a CR at
    the end of one chunk and an LF at the start of the next are one line
    end); a leading BOM is dropped; a field's value loses one leading
    space; C{data} lines are joined with LF; an event with no data is not
    dispatched; C{id} with NUL is ignored; C{retry} only if all ASCII
    digits; an unfinished event at the end of the stream is dropped
    (L{reset}).

    @ivar lastEventId: the last event id string (kept across reconnections).
    """

    def __init__(self) -> None:
        self.lastEventId = ""
        self.reset()

    def reset(self) -> None:
        """
        Forget a partial line and event (a new connection).
        """
        self._rest = ""
        self._skipLF = False
        self._first = True
        self._data: "list[str]" = []
        self._type = ""
        self._idBuffer = self.lastEventId

    def feed(self, text: str) -> "list[tuple]":
        """
        Parse C{text}; return what it completed, in order:
        C{("event", type, data, lastEventId)}, C{("comment", text)},
        C{("retry", ms)}.
        """
        out: "list[tuple]" = []
        if self._first and text:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skipLF and text:
            self._skipLF = False
            if text.startswith("\n"):
                text = text[1:]
        if not text:
            return out
        parts = LINE_END.split(text)
        parts[0] = self._rest + parts[0]
        self._rest = parts.pop()
        self._skipLF = text.endswith("\r")
        for line in parts:
            self._line(line, out)
        return out

    def _line(self, line: str, out: list) -> None:
        """
        Interpret one complete line.
        """
        if line == "":
            self._dispatch(out)
            return
        if line.startswith(":"):
            out.append(("comment", line[1:]))
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._type = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._idBuffer = value
        elif field == "retry":
            if value and value.isascii() and value.isdigit():
                out.append(("retry", int(value)))

    def _dispatch(self, out: list) -> None:
        """
        The end of an event (an empty line).
        """
        self.lastEventId = self._idBuffer
        if not self._data:
            self._type = ""
            return
        out.append(("event", self._type or "message", "\n".join(self._data), self.lastEventId))
        self._data = []
        self._type = ""


class Source:
    """
    An EventSource: connects, parses, and after the end of a 200 stream
    waits the retry time (C{retry:}, 3000 ms until the server says) and
    reconnects with the last event id -- a C{Last-Event-ID} header
    (C{via="header"}) or a C{lastEventId} query parameter
    (C{via="query"}).  A non-200 answer or another content type fails it
    (no reconnection).  Records everything, with times (L{now}).
    """

    def __init__(self, session, url: str, headers=None, firstLastEventId=None, via: str = "header") -> None:
        self.session = session
        self.url = url
        self.headers = dict(headers or {})
        self.via = via
        self.parser = Parser()
        if firstLastEventId is not None:
            self.parser.lastEventId = firstLastEventId
        self.retry = 3000
        self.events: "list[dict]" = []
        self.comments: "list[dict]" = []
        self.retries: "list[int]" = []
        self.opens: "list[float]" = []
        self.ends: "list[float]" = []
        self.requests: "list[dict]" = []
        self.failure: "dict | None" = None
        self.closed = False
        self._changed = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    def _notify(self) -> None:
        """
        Wake the waiters of L{until}.
        """
        self._changed.set()

    async def until(self, check, seconds: float, what: str) -> None:
        """
        Wait (bounded) until C{check()} is true.
        """

        async def wait():
            while not check():
                if self._task.done() and not self._task.cancelled() and self._task.exception() is not None:
                    raise self._task.exception()
                self._changed.clear()
                await self._changed.wait()

        await bounded(wait(), seconds, what)

    def hasId(self, eventId: str) -> bool:
        """
        Whether an event with this id arrived.
        """
        return any(e["id"] == eventId for e in self.events)

    async def _run(self) -> None:
        """
        Connect, read, reconnect, until closed or failed.
        """
        try:
            while not self.closed:
                await self._connectOnce()
                if self.closed or self.failure is not None:
                    return
                self.ends.append(now())
                self._notify()
                await asyncio.sleep(self.retry / 1000)  # the protocol's reconnection time, not a wait for an event
        finally:
            self._notify()

    async def _connectOnce(self) -> None:
        """
        One request: its response read to its end.
        """
        lastId = self.parser.lastEventId
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **self.headers}
        url = self.url
        if lastId and self.via == "header":
            headers["Last-Event-ID"] = lastId
        elif lastId:
            url += ("&" if "?" in url else "?") + urlencode({"lastEventId": lastId})
        self.requests.append({"at": now(), "lastEventId": lastId or None})
        self.parser.reset()
        async with self.session.get(url, headers=headers) as response:
            contentType = response.headers.get("Content-Type", "")
            if response.status != 200 or not contentType.startswith("text/event-stream"):
                self.failure = {"status": response.status, "contentType": contentType, "at": now()}
                self._notify()
                return
            self.opens.append(now())
            self._notify()
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            async for chunk in response.content.iter_any():
                self._handle(self.parser.feed(decoder.decode(chunk)))
                if self.closed:
                    return
            self._handle(self.parser.feed(decoder.decode(b"", final=True)))

    def _handle(self, items) -> None:
        """
        Record what the parser completed.
        """
        for item in items:
            if item[0] == "event":
                self.events.append({"type": item[1], "data": item[2], "id": item[3], "at": now()})
            elif item[0] == "comment":
                self.comments.append({"text": item[1], "at": now()})
            else:
                self.retry = item[1]
                self.retries.append(item[1])
        if items:
            self._notify()

    async def close(self) -> None:
        """
        Stop reading and reconnecting.
        """
        self.closed = True
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    def summary(self) -> dict:
        """
        What it saw, for the JSON line.
        """
        return {
            "events": self.events,
            "opens": self.opens,
            "ends": self.ends,
            "requests": self.requests,
            "retries": self.retries,
            "comments": self.comments,
            "failure": self.failure,
        }


def streamUrl(o, channels, **extra) -> str:
    """
    The stream URL for C{channels} and extra query parameters.
    """
    query = [("channel", c) for c in channels] + [(k, str(v)) for k, v in extra.items()]
    return o.base + "/events" + ("?" + urlencode(query) if query else "")


async def publish(session, o, channel: str, data: str, **extra) -> str:
    """
    POST one event to the publish endpoint; its id.
    """
    body = {"channel": channel, "data": data, **extra}
    headers = {"Authorization": f"Bearer {o.token}"}
    async with session.post(o.base + "/events/publish", json=body, headers=headers) as response:
        text = await response.text()
        if response.status != 200:
            raise AssertionError(f"publish to {channel} answered {response.status}: {text}")
        return json.loads(text)["id"]


# ---------------------------------------------------------------------------
# scenarios


async def events(session, o, facts) -> None:
    """
    Subscribe (to C{--channel}, or to nothing: the default channels),
    publish the C{--cases} in order, wait for the last one.
    """
    source = Source(session, streamUrl(o, o.channels))
    try:
        await source.until(lambda: source.opens or source.failure, o.timeout, "the stream to open")
        target = o.channels[0] if o.channels else "default"
        facts["published"] = [await publish(session, o, target, **case) for case in o.cases]
        last = facts["published"][-1]
        await source.until(lambda: source.hasId(last), o.timeout, "the last event")
    finally:
        await source.close()
        facts.update(source.summary())


async def retry(session, o, facts) -> None:
    """
    A stream the server ends C{--close-after} ms after it opened; the
    reconnections (C{--reconnects}) are timed.
    """
    source = Source(session, streamUrl(o, o.channels, closeAfterMs=o.closeAfter))
    wanted = o.reconnects + 1
    try:
        await source.until(lambda: len(source.opens) >= wanted or source.failure, o.timeout + wanted * 5, f"{wanted} opens")
    finally:
        await source.close()
        facts.update(source.summary())


async def replay(session, o, facts) -> None:
    """
    As C{sse_client.js}'s C{replay}: a stream on the first two C{--channel}
    channels ended by the server every C{--close-after} ms, batches of
    C{--count} events rotating over the three channels published on each
    open and on each end (while disconnected), then end markers; the
    reconnections send the last id C{--via} a header or the query.
    """
    a, b, c = o.channels
    rotation = [a, b, c]
    source = Source(session, streamUrl(o, [a, b], closeAfterMs=o.closeAfter), via=o.via)
    facts["published"] = []
    facts["batches"] = []
    n = 0

    async def batch(kind):
        nonlocal n
        entry = {"kind": kind, "opensBefore": len(source.opens), "start": now(), "end": None}
        facts["batches"].append(entry)
        for _ in range(o.count):
            channel = rotation[n % 3]
            data = f"{channel}:{n}"
            n += 1
            facts["published"].append({"channel": channel, "data": data, "id": await publish(session, o, channel, data)})
        entry["end"] = now()

    try:
        for k in range(1, o.reconnects + 2):
            await source.until(lambda: len(source.opens) >= k or source.failure, o.timeout, f"open {k}")
            await batch("live")
            if k == o.reconnects + 1:
                break
            await source.until(lambda: len(source.ends) >= k or source.failure, o.timeout, f"the end of stream {k}")
            await batch("disconnected")
        ends = [await publish(session, o, a, f"{a}:end"), await publish(session, o, b, f"{b}:end")]
        facts["endIds"] = ends
        await source.until(lambda: all(source.hasId(i) for i in ends), o.timeout, "the end markers")
    finally:
        await source.close()
        facts.update(source.summary())


async def missed(session, o, facts) -> None:
    """
    Connect to C{--channel} with a first C{Last-Event-ID}
    (C{--last-event-id}, sent C{--via} a header or the query); once open,
    publish C{--count} live events and wait for the last.
    """
    source = Source(session, streamUrl(o, o.channels[:1]), firstLastEventId=o.lastEventId, via=o.via)
    try:
        await source.until(lambda: source.opens or source.failure, o.timeout, "the stream to open")
        facts["published"] = [await publish(session, o, o.channels[0], f"live:{i}") for i in range(o.count)]
        last = facts["published"][-1]
        await source.until(lambda: source.hasId(last), o.timeout, "the last live event")
    finally:
        await source.close()
        facts.update(source.summary())


async def auth(session, o, facts) -> None:
    """
    The C{private} channel without Authorization, with a wrong token, with
    the right one, and without one together with another channel; then one
    event to C{private}, which the open ones wait for.
    """
    cases = {
        "none": (["private"], {}),
        "wrong": (["private"], {"Authorization": "Bearer nope"}),
        "right": (["private"], {"Authorization": "Bearer letmein"}),
        "mixedNone": ([o.channels[0] if o.channels else "default", "private"], {}),
    }
    sources = {name: Source(session, streamUrl(o, chs), headers=h) for name, (chs, h) in cases.items()}
    facts["clients"] = {}
    try:
        for name, s in sources.items():
            await s.until(lambda s=s: s.opens or s.failure, o.timeout, f"{name} to open or fail")
        eventId = await publish(session, o, "private", "for your eyes only")
        facts["published"] = [eventId]
        for name, s in sources.items():
            if s.opens:
                await s.until(lambda s=s: s.hasId(eventId), o.timeout, f"the private event on {name}")
    finally:
        for name, s in sources.items():
            await s.close()
            facts["clients"][name] = s.summary()


async def keepalive(session, o, facts) -> None:
    """
    An idle stream on C{--channel}: wait for C{--count} comments.
    """
    source = Source(session, streamUrl(o, o.channels))
    try:
        await source.until(lambda: source.opens or source.failure, o.timeout, "the stream to open")
        await source.until(lambda: len(source.comments) >= o.count, o.timeout, f"{o.count} comments")
    finally:
        await source.close()
        facts.update(source.summary())


async def probe(session, o, facts) -> None:
    """
    One GET of the stream on C{--channel} with the C{--header}s, not
    decompressed: the status, every response header (in order, repeats
    included) and the raw body bytes up to the end of the first block
    (C{"\\n\\n"}), 4 KiB or C{--timeout}, whichever comes first.
    """
    url = streamUrl(o, o.channels)
    headers = dict(h.split(":", 1) for h in o.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        start = now()
        async with raw.get(url, headers=headers) as response:
            facts["headersAt"] = now() - start
            facts["status"] = response.status
            facts["version"] = f"{response.version.major}.{response.version.minor}"
            facts["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.raw_headers]
            body = b""

            async def firstBlock():
                nonlocal body
                async for chunk in response.content.iter_any():
                    body += chunk
                    if b"\n\n" in body or b"\r\n\r\n" in body or len(body) > 4096:
                        return

            try:
                await bounded(firstBlock(), o.timeout, "the first block of the body")
            except AssertionError as e:
                facts["bodyTimeout"] = str(e)
            facts["bodyAt"] = now() - start
            facts["body"] = body.decode("latin-1")


async def leak(session, o, facts) -> None:
    """
    Open and drop C{--count} streams over raw sockets, C{--concurrency} at
    a time, in turns: read the response up to the C{retry} block then close
    (FIN), the same then reset (RST), send the request and close at once,
    send half a request and close, and a stream with C{lastEventId} read to
    its first block then closed.  Counts how each went.
    """
    host, port = urlsplit(o.base).hostname, urlsplit(o.base).port
    limit = asyncio.Semaphore(o.concurrency)
    modes = ["fin", "rst", "request-only", "half-request", "resume-fin"]
    counts: "dict[str, int]" = {}
    problems: "list[str]" = []

    async def one(i: int) -> None:
        mode = modes[i % len(modes)]
        query = f"channel=leak-{i % 7}&channel=leak-all"
        if mode == "resume-fin":
            query += "&lastEventId=nope-1"
        request = f"GET /events?{query} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        async with limit:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                if mode == "half-request":
                    writer.write(request[: len(request) // 2])
                    await writer.drain()
                    outcome = "half-sent"
                elif mode == "request-only":
                    writer.write(request)
                    await writer.drain()
                    outcome = "sent"
                else:
                    writer.write(request)
                    head = await bounded(reader.readuntil(b"\r\n\r\n"), o.timeout, "response headers")
                    if not head.startswith(b"HTTP/1.1 200"):
                        problems.append(f"{mode}: {head[:40]!r}")
                    seen = b""
                    while b"retry:" not in seen or b"\n\n" not in seen[seen.index(b"retry:"):]:
                        chunk = await bounded(reader.read(4096), o.timeout, "the retry block")
                        if not chunk:
                            problems.append(f"{mode}: EOF before the retry block")
                            break
                        seen += chunk
                    outcome = "streamed"
                    if mode == "rst":
                        sock = writer.get_extra_info("socket")
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            finally:
                writer.close()
                try:
                    await bounded(writer.wait_closed(), o.timeout, "the socket to close")
                except OSError:
                    pass
            key = f"{mode}:{outcome}"
            counts[key] = counts.get(key, 0) + 1

    results = await bounded(
        asyncio.gather(*(one(i) for i in range(o.count)), return_exceptions=True),
        o.timeout * 10,
        f"{o.count} streams",
    )
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    facts["counts"] = counts
    facts["problems"] = problems[:20]
    facts["errors"] = errors[:20]
    facts["errorCount"] = len(errors)


SCENARIOS = {
    "events": events,
    "retry": retry,
    "replay": replay,
    "missed": missed,
    "auth": auth,
    "keepalive": keepalive,
    "probe": probe,
    "leak": leak,
}


def parseArgs(argv):
    """
    The command line.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("base")
    parser.add_argument("--channel", default="")
    parser.add_argument("--token", default="secret")
    parser.add_argument("--cases")
    parser.add_argument("--close-after", dest="closeAfter", type=int, default=1000)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--reconnects", type=int, default=2)
    parser.add_argument("--last-event-id", dest="lastEventId")
    parser.add_argument("--via", choices=["header", "query"], default="header")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=15.0)
    o = parser.parse_args(argv)
    o.channels = [c for c in o.channel.split(",") if c]
    if o.cases:
        with open(o.cases, encoding="utf-8") as f:
            o.cases = json.load(f)
    return o


async def main(o, facts) -> None:
    """
    Run the scenario, the whole of it bounded.
    """
    timeout = aiohttp.ClientTimeout(total=None, connect=o.timeout, sock_connect=o.timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await bounded(SCENARIOS[o.scenario](session, o, facts), o.timeout * 8 + 30, "the whole scenario")


def run() -> int:
    """
    Parse the arguments, run, print the JSON line; the exit status.
    """
    facts: dict = {}
    code = 0
    try:
        o = parseArgs(sys.argv[1:])
        facts["scenario"] = o.scenario
        asyncio.run(main(o, facts))
    except BaseException as e:  # reported in the JSON line
        if isinstance(e, SystemExit) and e.code == 0:
            raise
        facts["error"] = "".join(traceback.format_exception(e))[-4000:]
        code = 1
    sys.stdout.write(json.dumps(facts, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(run())
