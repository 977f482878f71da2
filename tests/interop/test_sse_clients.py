"""
Real Server-Sent Events clients against rtproto's SSE resource and, to keep
the peers and these tests honest, against the reference Node server
(C{sse_server.js}, whose header comment specifies what both serve): the npm
C{eventsource} package (C{sse_client.js}: the WHATWG EventSource on fetch,
with its own reconnection and C{Last-Event-ID}) and an aiohttp client with
a WHATWG stream parser of its own (C{sse_pyclient.py}), plus raw sockets
for what no polite client does (never reading, dropping streams by the
thousand) and plain HTTP requests for the publish endpoint.

Each peer run is one scenario printing what it saw; the assertions are
here.  Every wait is bounded; nothing sleeps to wait for something.

Needs C{node} and C{npm ci --prefix tests/interop}.
"""

import json
import re

import pytest

from .sse_support import (
    ALLOWED_ORIGIN,
    EVENT_CASES,
    HISTORY,
    PATH,
    RETRY_MS,
    TOKEN,
    SlowSubscriber,
    SSEServer,
    kind,
    publish,
    received,
    request,
    runClient,
    runNodeClient,
    runPythonClient,
    sequenceProblems,
    shorten,
    sseServers,
    uniqueChannel,
)

pytestmark = pytest.mark.interop

__all__ = ["kind", "sseServers"]

CLIENTS = [pytest.param("node", id="node"), pytest.param("python", id="python")]

ID = re.compile(r"^(?P<epoch>.+)-(?P<n>\d+)$")
"""Server-made event ids: C{<epoch>-<n>}."""

SLOW_EVENTS = 384
SLOW_SIZE = 64 * 1024
"""
The slow-subscriber test publishes SLOW_EVENTS events of SLOW_SIZE bytes
(24 MiB): a server must drop a subscriber that reads nothing well before
that (its per-subscriber bound plus the kernels' buffers).
"""


def eventProblems(got: "list[tuple]", expected: "list[tuple]") -> "list[str]":
    """
    What differs between two lists of received events, item by item
    (long values cut short).
    """

    def short(value):
        text = repr(value)
        return text if len(text) <= 200 else f"{text[:120]}...({len(text)} chars)"

    problems = []
    if len(got) != len(expected):
        problems.append(f"got {len(got)} events, expected {len(expected)}")
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            first = next((j for j, (a, b) in enumerate(zip(g[1], e[1])) if a != b), min(len(g[1]), len(e[1])))
            problems.append(f"event {i}: got {short(g)}, expected {short(e)} (data differs at {first})")
    return problems


def checkIds(ids: "list[str]") -> None:
    """
    Server-made ids: C{<epoch>-<n>}, one epoch, C{n} increasing in publish
    order.
    """
    parsed = [ID.match(i) for i in ids]
    assert all(parsed), f"ids not <epoch>-<n>: {[i for i, m in zip(ids, parsed) if not m]}"
    assert len({m.group("epoch") for m in parsed}) == 1, ids
    numbers = [int(m.group("n")) for m in parsed]
    assert numbers == sorted(set(numbers)), f"ids do not increase in publish order: {shorten(ids)}"


def streamEnds(client: str, facts: dict) -> "list[float]":
    """
    When the client saw each stream end (the Node client: its C{error}
    events, all of them mere ends -- readyState CONNECTING -- not
    failures).
    """
    if client == "python":
        assert facts["failure"] is None, facts["failure"]
        return facts["ends"]
    assert all(e["readyState"] == 0 for e in facts["errors"]), facts["errors"]
    return [e["at"] for e in facts["errors"]]


def writeCases(tmp_path, cases) -> str:
    """
    The publish cases as a JSON file for the peers.
    """
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------
# the event stream format


@pytest.mark.parametrize("client", CLIENTS)
def test_typed_and_multiline_events(sseServers, kind, client, tmp_path):
    """
    Typed and untyped events, payloads with LF, CR and CRLF line breaks
    (mixed, leading, trailing, only line breaks), an empty payload,
    non-ASCII text and types, characters that are not SSE line ends
    (U+2028, U+2029, NEL, VT, FF, FS: unchanged), leading spaces, lines
    that look like fields or comments, NUL, and 100 KiB in 2,000 lines all
    arrive exactly -- CR and CRLF as LF, as a WHATWG client must see them
    -- in order, each with the id the publish endpoint returned.
    """
    server = sseServers(kind)
    facts = runClient(client, "events", server, channel=[uniqueChannel("events")], cases=writeCases(tmp_path, EVENT_CASES))
    got = [(e["type"], e["data"], e["id"]) for e in facts["events"]]
    expected = [(c.get("event", "message"), received(c["data"]), i) for c, i in zip(EVENT_CASES, facts["published"])]
    assert eventProblems(got, expected) == []
    checkIds(facts["published"])
    server.checkAlive()


def test_default_and_multiple_channels(sseServers, kind):
    """
    Four EventSources -- on channels A and B, on A, on B, and on none (the
    default channel, "default") -- while events go to A, B, C and default
    in turns: each gets exactly its channels' events, in publish order, and
    nothing of C.
    """
    server = sseServers(kind)
    a, b, c = (uniqueChannel(n) for n in "abc")
    facts = runNodeClient("channels", server, channel=[a, b, c], count=3)
    published = facts["published"] + [
        {"channel": ch, "data": f"{ch}:end", "id": facts["endIds"][ch]} for ch in (a, b, "default")
    ]
    for name, channels in {"ab": [a, b], "a": [a], "b": [b], "none": ["default"]}.items():
        got = [(e["type"], e["data"], e["id"]) for e in facts["received"][name]]
        expected = [("message", p["data"], p["id"]) for p in published if p["channel"] in channels]
        assert eventProblems(got, expected) == [], name
    server.checkAlive()


# ---------------------------------------------------------------------------
# reconnection: retry, Last-Event-ID, missed


@pytest.mark.parametrize("client", CLIENTS)
def test_retry_is_honoured(sseServers, kind, client):
    """
    A stream opened with C{closeAfterMs=600} ends about 600 ms after it
    opened (the client's clock: between half that and a second more); the
    client reconnects after the server's C{retry: 1500} -- no sooner than
    1.5 s after it saw the end, and before the 3 s that C{eventsource}
    waits by default -- twice.
    """
    server = sseServers(kind)
    closeAfter = 600
    facts = runClient(client, "retry", server, channel=[uniqueChannel("retry")], closeAfter=closeAfter, reconnects=2)
    opens, requests = facts["opens"], facts["requests"]
    ends = streamEnds(client, facts)
    assert len(opens) >= 3 and len(requests) >= 3 and len(ends) >= 2, shorten(facts)
    for k in range(2):
        lifetime = ends[k] - opens[k]
        assert closeAfter / 2 <= lifetime <= closeAfter + 1000, f"stream {k} lasted {lifetime} ms"
        gap = requests[k + 1]["at"] - ends[k]
        assert RETRY_MS - 20 <= gap <= RETRY_MS + 1200, f"reconnection {k + 1} came {gap} ms after the end"
    if client == "python":
        assert facts["retries"][:3] == [RETRY_MS] * 3
    server.checkAlive()


def lastIdsBeforeRequests(facts: dict) -> "list[tuple]":
    """
    For each reconnection request: the Last-Event-ID it carried and the id
    of the last event received before it.
    """
    pairs = []
    for r in facts["requests"][1:]:
        before = [e["id"] for e in facts["events"] if e["at"] <= r["at"]]
        pairs.append((r["lastEventId"], before[-1] if before else None))
    return pairs


@pytest.mark.parametrize(
    "client, via",
    [
        pytest.param("node", "header", id="node"),
        pytest.param("python", "header", id="python-header"),
        pytest.param("python", "query", id="python-query"),
    ],
)
def test_replay_after_disconnect(sseServers, kind, client, via):
    """
    A client on channels A and B whose stream the server ends every 1.2 s:
    on each open 6 events go to A, B and C in turns (live), on each end 6
    more (while the client waits its 1.5 s); after two reconnections with
    the last id seen (a C{Last-Event-ID} header, or the C{lastEventId}
    query parameter polyfills use), it has every event of A and B exactly
    once, in publish order, and none of C.
    """
    server = sseServers(kind)
    a, b, c = (uniqueChannel(n) for n in "abc")
    options = {"via": via} if client == "python" else {}
    facts = runClient(client, "replay", server, channel=[a, b, c], closeAfter=1200, count=6, reconnects=2, **options)
    published = facts["published"] + [
        {"channel": ch, "data": f"{ch}:end", "id": i} for ch, i in zip((a, b), facts["endIds"])
    ]
    expected = [(p["data"], p["id"]) for p in published if p["channel"] in (a, b)]
    got = [(e["data"], e["id"]) for e in facts["events"]]
    assert sequenceProblems(got, expected) == []
    assert {e["type"] for e in facts["events"]} == {"message"}
    opens = facts["opens"]
    assert len(opens) == 3, shorten(facts)
    disconnected = [batch for batch in facts["batches"] if batch["kind"] == "disconnected"]
    assert len(disconnected) == 2
    for batch in disconnected:
        assert batch["end"] < opens[batch["opensBefore"]], f"not published while disconnected: {batch}, opens {opens}"
    carried = lastIdsBeforeRequests(facts)
    assert len(carried) == 2 and all(sent == last and sent for sent, last in carried), carried
    checkIds([p["id"] for p in published])
    server.checkAlive()


def test_replay_storm(sseServers, kind):
    """
    80 events published every 50 ms while the server ends the stream every
    0.7 s: across the library's reconnections every event arrives exactly
    once, in order.
    """
    server = sseServers(kind)
    facts = runNodeClient("storm", server, channel=[uniqueChannel("storm")], closeAfter=700, count=80, interval=50, timeout=30)
    expected = [(p["data"], p["id"]) for p in facts["published"]]
    got = [(e["data"], e["id"]) for e in facts["events"]]
    assert sequenceProblems(got, expected) == []
    assert len(facts["opens"]) >= 2, "no reconnection happened while publishing"
    server.checkAlive()


MISSED_CLIENTS = [
    pytest.param("node", "header", id="node"),
    pytest.param("python", "header", id="python-header"),
    pytest.param("python", "query", id="python-query"),
]


def runMissed(client: str, via: str, server, channel: str, lastEventId: str, count: int = 3) -> dict:
    """
    The C{missed} scenario: connect with a first Last-Event-ID, then
    C{count} live events.
    """
    options = {"via": via} if client == "python" else {}
    return runClient(client, "missed", server, channel=[channel], lastEventId=lastEventId, count=count, **options)


def missedEvents(facts: dict) -> "list[tuple]":
    """
    What the C{missed} scenario received, as C{(type, data, id)}.
    """
    return [(e["type"], e["data"], e["id"]) for e in facts["events"]]


def liveEvents(facts: dict) -> "list[tuple]":
    """
    The live events the C{missed} scenario published, as received.
    """
    return [("message", f"live:{i}", eventId) for i, eventId in enumerate(facts["published"])]


@pytest.mark.parametrize("client, via", MISSED_CLIENTS)
def test_unknown_id_from_another_epoch(kind, client, via):
    """
    An id from before a server restart (another epoch, with a small
    counter) on a new server that already has events on that channel: 200,
    first an C{event: missed} whose data is that id, then only live events
    -- none of the new server's history.
    """
    channel = uniqueChannel("epoch")
    first = SSEServer(kind).start()
    try:
        old = publish(first, channel, "before the restart")
    finally:
        first.stop()
    second = SSEServer(kind).start()
    try:
        history = [publish(second, channel, f"new:{i}") for i in range(3)]
        facts = runMissed(client, via, second, channel, old)
        second.checkAlive()
    finally:
        second.stop()
    assert ID.match(old).group("epoch") != ID.match(history[0]).group("epoch"), (old, history)
    got = missedEvents(facts)
    assert got[:1] and got[0][:2] == ("missed", old), shorten(got)
    assert got[1:] == liveEvents(facts)


@pytest.mark.parametrize("client, via", MISSED_CLIENTS)
def test_unknown_id_with_leading_dash(sseServers, kind, client, via):
    """
    An unknown id whose epoch starts with C{-} (one random epoch in 64
    does): it reaches the server whole, which answers C{missed} with it, then
    the live events.
    """
    server = sseServers(kind)
    channel = uniqueChannel("dash")
    publish(server, channel, "history")
    old = "-Ab3_x9Z-7"
    facts = runMissed(client, via, server, channel, old)
    got = missedEvents(facts)
    assert got[:1] and got[0][:2] == ("missed", old), shorten(got)
    assert got[1:] == liveEvents(facts)


@pytest.mark.parametrize("client, via", MISSED_CLIENTS)
def test_expired_id(sseServers, kind, client, via):
    """
    An id followed by more than the history's 50 events on its channel:
    C{missed} with that id, then only live events (not the 50 kept).
    """
    server = sseServers(kind)
    channel = uniqueChannel("expired")
    old = publish(server, channel, "old")
    for i in range(HISTORY + 10):
        publish(server, channel, f"newer:{i}")
    facts = runMissed(client, via, server, channel, old)
    got = missedEvents(facts)
    assert got[:1] and got[0][:2] == ("missed", old), shorten(got)
    assert got[1:] == liveEvents(facts)
    server.checkAlive()


@pytest.mark.parametrize("client, via", MISSED_CLIENTS)
@pytest.mark.parametrize("which", ["middle", "latest"])
def test_known_id_replays_the_rest(sseServers, kind, client, via, which):
    """
    A first request carrying a known id (the second of five, or the
    latest) gets exactly the events after it (three, or none), no
    C{missed}, then live events.
    """
    server = sseServers(kind)
    channel = uniqueChannel("known")
    ids = [publish(server, channel, f"kept:{i}") for i in range(5)]
    start = 1 if which == "middle" else 4
    facts = runMissed(client, via, server, channel, ids[start])
    replayed = [("message", f"kept:{i}", ids[i]) for i in range(start + 1, 5)]
    assert missedEvents(facts) == replayed + liveEvents(facts)
    server.checkAlive()


# ---------------------------------------------------------------------------
# many subscribers, slow subscribers, leaks


def test_200_subscribers(sseServers, kind):
    """
    200 EventSources on one channel, all open before 100 events (300
    characters each) are published: every one gets all 100, in order,
    with the right data.
    """
    server = sseServers(kind)
    facts = runNodeClient("fanout", server, channel=[uniqueChannel("fanout")], subscribers=200, count=100, size=300, timeout=30)
    expected = facts["expected"]
    assert len(expected) == 100 and len(facts["subscribers"]) == 200
    bad = [
        (i, sequenceProblems(s["ids"], expected), s["wrongData"])
        for i, s in enumerate(facts["subscribers"])
        if s["ids"] != expected or s["wrongData"]
    ]
    assert bad == [], f"{len(bad)} subscribers went wrong: {shorten(bad, 5)}"
    checkIds(expected)
    server.checkAlive()


def test_slow_subscriber_is_dropped(sseServers, kind):
    """
    A subscriber that never reads (a raw socket with a 4 KiB receive
    buffer) on a channel where 24 MiB of 64 KiB events are published: two
    EventSources on that channel get every event in order, none later than
    5 s after its publish request; when the silent one reads at last, its
    connection ends (EOF or reset) before it has had everything: the server
    dropped it.
    """
    server = sseServers(kind)
    channel = uniqueChannel("slow")
    total = SLOW_EVENTS * SLOW_SIZE
    slow = SlowSubscriber(server, channel)
    try:
        facts = runNodeClient("fanout", server, channel=[channel], subscribers=2, count=SLOW_EVENTS, size=SLOW_SIZE, timeout=30)
        ending, read = slow.drain(limit=total)
    finally:
        slow.close()
    expected = facts["expected"]
    for s in facts["subscribers"]:
        assert sequenceProblems(s["ids"], expected) == [] and s["wrongData"] == 0
        assert s["maxLatencyMs"] < 5000, f"a reading subscriber was delayed {s['maxLatencyMs']} ms"
    assert ending in ("eof", "reset"), f"the silent subscriber was not dropped: {ending} after {read} bytes"
    assert read < total
    server.checkAlive()


def test_subscriber_leak(sseServers, kind, tmp_path):
    """
    2,000 streams opened and dropped over raw sockets, 50 at a time (after
    the retry block with FIN or RST, after sending the request, halfway
    through the request, with an unknown lastEventId): the server still
    serves, and its subscriber count comes back to 0 (rtproto: its stats
    endpoint; the reference server: its log, see
    C{sse_support.SUBSCRIBER_COUNT}).
    """
    server = sseServers(kind)
    since = len(server.logText())
    facts = runPythonClient("leak", server, count=2000, concurrency=50, timeout=30)
    assert facts["errorCount"] == 0, facts["errors"]
    assert facts["problems"] == []
    streamed = sum(n for key, n in facts["counts"].items() if key.endswith(":streamed"))
    assert streamed == 1200, facts["counts"]
    server.checkAlive()
    cases = [{"data": "still"}, {"event": "t", "data": "serving\r\nfine"}]
    after = runPythonClient("events", server, channel=[uniqueChannel("after-leak")], cases=writeCases(tmp_path, cases))
    assert [(e["type"], e["data"]) for e in after["events"]] == [("message", "still"), ("t", "serving\nfine")]
    if kind == "rtproto":
        # rtproto tells its count through its stats endpoint, which answers
        # once the count is 0.
        stats = server.stats(subscribers=0)
        assert (stats["subscribers"], stats["channels"]) == (0, {})
        return
    counts = server.subscriberCounts(since)
    assert counts and max(counts) >= 1
    server.waitForSubscriberCount(0)


# ---------------------------------------------------------------------------
# HTTP: headers, keep-alive, auth, publishing, CORS


def headerValues(facts: dict, name: str) -> "list[str]":
    """
    Every value of a response header (case-insensitive name).
    """
    return [v for k, v in facts["headers"] if k.lower() == name.lower()]


def test_headers(sseServers, kind):
    """
    The stream's headers, asked with C{Accept-Encoding: gzip, deflate, br}:
    200 on HTTP/1.1, C{Content-Type: text/event-stream; charset=utf-8},
    C{Cache-Control: no-cache}, C{X-Accel-Buffering: no}, no
    Content-Length, no Content-Encoding; headers and C{retry: 1500} (the
    body's first bytes) arrive at once on an idle channel.
    """
    server = sseServers(kind)
    facts = runPythonClient(
        "probe", server, channel=[uniqueChannel("headers")], header=["Accept-Encoding: gzip, deflate, br"], timeout=5
    )
    assert facts["status"] == 200 and facts["version"] == "1.1"
    assert [v.replace(" ", "").lower() for v in headerValues(facts, "Content-Type")] == ["text/event-stream;charset=utf-8"]
    cacheControl = [t.strip().lower() for v in headerValues(facts, "Cache-Control") for t in v.split(",")]
    assert "no-cache" in cacheControl
    assert headerValues(facts, "X-Accel-Buffering") == ["no"]
    assert headerValues(facts, "Content-Length") == []
    assert headerValues(facts, "Content-Encoding") == []
    assert "bodyTimeout" not in facts, facts
    assert facts["body"].startswith(f"retry: {RETRY_MS}\n\n"), facts["body"]
    server.checkAlive()


def test_keepalive_comments(sseServers, kind):
    """
    An idle stream gets a comment within 2 s of opening, and another about
    a second later (C{--sse-keepalive 1}); comments are no events.
    """
    server = sseServers(kind)
    facts = runPythonClient("keepalive", server, channel=[uniqueChannel("idle")], count=2, timeout=10)
    opened, comments = facts["opens"][0], facts["comments"]
    assert comments[0]["at"] - opened <= 2000 + 300, (opened, comments)
    assert 500 <= comments[1]["at"] - comments[0]["at"] <= 2000, comments
    assert facts["events"] == []
    server.checkAlive()


def authOutcome(client: str, facts: dict):
    """
    How one stream of the C{auth} scenario went: its HTTP status if it
    failed, else C{("open", [(type, data)])}.
    """
    if facts["opens"]:
        return ("open", [(e["type"], e["data"]) for e in facts["events"]])
    if client == "python":
        return facts["failure"]["status"]
    assert facts["readyState"] == 2, facts  # CLOSED: failed, no reconnection
    return facts["errors"][-1]["code"]


@pytest.mark.parametrize("client", CLIENTS)
def test_private_channel_auth(sseServers, kind, client):
    """
    The C{private} channel: no Authorization -> 401 (alone, or with another
    channel), a wrong bearer token -> 403 (the clients give up), C{Bearer
    letmein} -> 200 and its events.
    """
    server = sseServers(kind)
    facts = runClient(client, "auth", server, channel=[uniqueChannel("public")])
    outcomes = {name: authOutcome(client, f) for name, f in facts["clients"].items()}
    assert outcomes == {
        "none": 401,
        "wrong": 403,
        "right": ("open", [("message", "for your eyes only")]),
        "mixedNone": 401,
    }
    server.checkAlive()


def test_publish_endpoint(sseServers, kind):
    """
    C{POST /events/publish}: no Authorization -> 401 (before the body is
    looked at), a wrong token -> 403, then 400 for a body that is not JSON,
    empty, not an object, without channel or data, with a non-string
    channel or data, or with a line break in event or id; 200 and
    C{{"id": ...}} (JSON) otherwise.  Nothing refused reaches the channel:
    a replay from the first accepted event has exactly the later accepted
    ones.
    """
    server = sseServers(kind)
    channel = uniqueChannel("publish")
    path = PATH + "/publish"
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    good = {"channel": channel, "data": "refused"}
    first = publish(server, channel, "first")
    refused = [
        ("no Authorization", {"Content-Type": "application/json"}, good, 401),
        ("no Authorization, bad body", {"Content-Type": "application/json"}, "{nope", 401),
        ("wrong token", {**auth, "Authorization": "Bearer nope"}, good, 403),
        ("token prefix", {**auth, "Authorization": f"Bearer {TOKEN[:-1]}"}, good, 403),
        ("not JSON", auth, "{nope", 400),
        ("empty body", auth, "", 400),
        ("not an object", auth, [good], 400),
        ("no channel", auth, {"data": "x"}, 400),
        ("no data", auth, {"channel": channel}, 400),
        ("channel not a string", auth, {"channel": 5, "data": "x"}, 400),
        ("data not a string", auth, {"channel": channel, "data": 5}, 400),
        ("line break in event", auth, {**good, "event": "a\nb"}, 400),
        ("line break in id", auth, {**good, "id": "a\rb"}, 400),
    ]
    answers = {name: request(server, "POST", path, headers, body)[0] for name, headers, body, _ in refused}
    assert answers == {name: status for name, _, _, status in refused}
    status, headers, body = request(server, "POST", path, auth, {"channel": channel, "data": "second", "event": "typed"})
    assert status == 200 and headers["content-type"].startswith("application/json"), (status, headers, body)
    second = json.loads(body)["id"]
    third = publish(server, channel, "third")
    checkIds([first, second, third])
    facts = runPythonClient("missed", server, channel=[channel], lastEventId=first, count=1)
    assert missedEvents(facts) == [("typed", "second", second), ("message", "third", third)] + liveEvents(facts)
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
def test_publish_with_app_id(sseServers, kind, client, tmp_path):
    """
    A publisher's own C{id} is the event's id: returned by the publish
    endpoint, on the stream, and a Last-Event-ID the server replays from.
    """
    server = sseServers(kind)
    channel = uniqueChannel("appid")
    appId = "app:" + uniqueChannel("order")
    cases = [{"data": "with the app's id", "id": appId}, {"data": "after it"}]
    facts = runClient(client, "events", server, channel=[channel], cases=writeCases(tmp_path, cases))
    assert facts["published"][0] == appId
    assert [(e["data"], e["id"]) for e in facts["events"]] == [(c["data"], i) for c, i in zip(cases, facts["published"])]
    replay = runMissed(client, "header", server, channel, appId, count=1)
    assert missedEvents(replay) == [("message", "after it", facts["published"][1])] + liveEvents(replay)
    server.checkAlive()


@pytest.mark.parametrize(
    "origin, allowed",
    [
        pytest.param(ALLOWED_ORIGIN, True, id="allowed"),
        pytest.param("http://other.example", False, id="other"),
        pytest.param(None, False, id="none"),
    ],
)
def test_cors(sseServers, kind, origin, allowed):
    """
    C{Origin: http://allowed.example} gets
    C{Access-Control-Allow-Origin: http://allowed.example}; another origin,
    or none, gets no such header; the stream is served (200) either way.
    """
    server = sseServers(kind)
    header = [f"Origin: {origin}"] if origin else []
    facts = runPythonClient("probe", server, channel=[uniqueChannel("cors")], header=header, timeout=5)
    assert facts["status"] == 200
    assert headerValues(facts, "Access-Control-Allow-Origin") == ([origin] if allowed else [])
    server.checkAlive()
