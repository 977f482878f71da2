"""
engine.io protocol 3 polling encodings that the Node clients cannot show,
checked with raw HTTP requests from Python against rtproto and the
reference Node C{engine.io} server (both running L{tests.interop.eio_app}):

  - JSONP polling (C{j=N}, with C{b64=1} as the 3.x client sends):
    responses C{___eio[N]("<payload as a JS string>");}, posts
    form-encoded C{d=<payload>} with newlines escaped as the 3.x browser
    client escapes them;
  - XHR2 binary payloads (no C{b64}): C{application/octet-stream} bodies
    of C{<0|1><length digits as bytes>0xFF<packet>} records, string
    lengths counted in UTF-8 bytes;
  - base64 text payloads (C{b64=1}): C{<length>:<packet>} records, lengths
    counted in UTF-16 code units (as JavaScript counts), binary messages
    as C{b4<base64>};

and, for both protocol revisions, how a server close reaches a client in
the middle of an upgrade, step by step.

(engine.io-client 3.x has no XHR2 in Node, where it always polls in
base64, and needs a DOM for JSONP.)
"""

import base64
import http.client
import json
import re
import urllib.parse

import pytest

from .eio_app import binaryData, unicodeText
from .eio_support import HOST, SERVER_KINDS, eioServers

websocketsClient = pytest.importorskip("websockets.sync.client")

pytestmark = pytest.mark.interop

__all__ = ["eioServers"]

TIMEOUT = 10.0
PATH = "/engine.io/"
JSONP = re.compile(r'^___eio\[(\d+)\]\((".*")\);$', re.S)


@pytest.fixture(params=SERVER_KINDS)
def server(request, eioServers):
    """
    A server of each kind, default settings.
    """
    return eioServers(request.param)


# How each server names the reason of a close it made (rtproto:
# IEngineIOHandler).
SERVER_CLOSE = {"rtproto": "server close", "reference": "forced close"}


# ---------------------------------------------------------------------------
# a tiny engine.io protocol 3 polling codec (what the 3.x clients send)


def utf16Length(text: str) -> int:
    """
    The length of C{text} as JavaScript counts it (UTF-16 code units).
    """
    return len(text.encode("utf-16-le")) // 2


def encodeTextPayload(packets: "list[str]") -> str:
    """
    Protocol 3 text payload: C{<UTF-16 length>:<packet>} for each packet.
    """
    return "".join(f"{utf16Length(p)}:{p}" for p in packets)


def decodeTextPayload(payload: str) -> "list[str]":
    """
    Split a protocol 3 text payload into packets (lengths in UTF-16 units).
    """
    packets = []
    i = 0
    while i < len(payload):
        colon = payload.index(":", i)
        length = int(payload[i:colon])
        start = end = colon + 1
        units = 0
        while units < length:
            assert end < len(payload), f"truncated payload: {payload!r}"
            units += 2 if ord(payload[end]) > 0xFFFF else 1
            end += 1
        assert units == length, f"length {length} splits a surrogate pair: {payload!r}"
        packets.append(payload[start:end])
        i = end
    return packets


def encodeBinaryPayload(packets) -> bytes:
    """
    Protocol 3 XHR2 binary payload: C{0} (string) or C{1} (binary), the
    length's decimal digits as bytes, C{0xFF}, the packet; string lengths
    in UTF-8 bytes, binary packets prefixed by their type byte (4).
    """
    out = bytearray()
    for p in packets:
        if isinstance(p, str):
            body, kind = p.encode("utf-8"), 0
        else:
            body, kind = b"\x04" + p, 1
        out += bytes([kind]) + bytes(int(d) for d in str(len(body))) + b"\xff" + body
    return bytes(out)


def decodeBinaryPayload(data: bytes) -> list:
    """
    Split a protocol 3 binary payload into packets: L{str} for string
    packets, L{bytes} (type byte included) for binary ones.
    """
    packets = []
    i = 0
    while i < len(data):
        kind = data[i]
        assert kind in (0, 1), f"bad record type {kind} at {i}: {data[:64]!r}"
        end = data.index(b"\xff", i + 1)
        digits = data[i + 1:end]
        assert all(d < 10 for d in digits), f"bad length digits {digits!r}"
        length = int("".join(str(d) for d in digits))
        body = data[end + 1:end + 1 + length]
        assert len(body) == length, f"truncated payload: {data!r}"
        packets.append(body.decode("utf-8") if kind == 0 else body)
        i = end + 1 + length
    return packets


def jsonpEscape(payload: str) -> str:
    """
    Escape newlines as engine.io-client 3.x's JSONP transport does before
    posting: an escaped newline (backslash, C{n}) becomes a backslash and
    a newline, then every newline becomes backslash, C{n}.
    """
    return payload.replace("\\n", "\\\n").replace("\n", "\\n")


# ---------------------------------------------------------------------------
# raw HTTP


class Response:
    """
    A complete HTTP response.
    """

    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def contentType(self) -> str:
        return self.headers.get("Content-Type", "")

    def __repr__(self) -> str:
        return f"<{self.status} {self.contentType!r} {self.body[:300]!r}>"


def request(server, method: str, query: dict, body: "bytes | None" = None, contentType: "str | None" = None) -> Response:
    """
    One request to the engine.io path, on a connection of its own.
    """
    connection = http.client.HTTPConnection(HOST, server.port, timeout=TIMEOUT)
    try:
        headers = {}
        if contentType is not None:
            headers["Content-Type"] = contentType
        connection.request(method, PATH + "?" + urllib.parse.urlencode(query), body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def jsonpBody(response: Response, index: int) -> str:
    """
    The payload carried by a JSONP response for callback C{index}.
    """
    assert response.status == 200, response
    text = response.body.decode("utf-8")
    match = JSONP.match(text)
    assert match, f"not a JSONP response: {text[:300]!r}"
    assert int(match.group(1)) == index
    assert "\u2028" not in text and "\u2029" not in text, "U+2028/U+2029 must be escaped in JavaScript"
    return json.loads(match.group(2))


def openPacket(packets: "list[str]") -> dict:
    """
    The handshake data of the open packet that starts C{packets}.
    """
    assert packets and packets[0].startswith("0"), packets
    data = json.loads(packets[0][1:])
    assert isinstance(data.get("sid"), str) and data["sid"], data
    assert isinstance(data.get("pingInterval"), int) and isinstance(data.get("pingTimeout"), int), data
    assert isinstance(data.get("upgrades"), list), data
    return data


# ---------------------------------------------------------------------------
# the tests


def test_eio3_jsonp(server):
    """
    JSONP polling: the handshake and every poll answer
    C{___eio[N]("...");} for the C{j=N} of the request; posts are
    form-encoded C{d=...} answered C{ok}; strings (quotes, backslashes,
    newlines, literal backslash-n, U+2028, astral characters) round-trip;
    a binary message comes back base64-encoded.
    """
    # engine.io-client 3.x asks for base64 (b64=1) with JSONP, which cannot
    # carry binary.
    handshake = request(server, "GET", {"EIO": "3", "transport": "polling", "j": "4", "b64": "1"})
    assert handshake.contentType.startswith(("text/javascript", "text/plain", "application/javascript")), handshake
    packets = decodeTextPayload(jsonpBody(handshake, 4))
    sid = openPacket(packets)["sid"]
    sessionQuery = {"EIO": "3", "transport": "polling", "j": "4", "b64": "1", "sid": sid}

    tricky = 'line1\nline2 \\n literal, "quoted", back\\slash, \u2028 \U0001f600 \u00e9'
    # (A backslash right before a newline cannot survive that escaping.)
    others = "a\u00e9\u20ac\u4e2d\U0001f600\u2028\u2029\"\x00z\t</script>"
    messages = ["4hello", "4" + tricky, "4" + others, "b4AQID"]
    posted = request(
        server,
        "POST",
        sessionQuery,
        urllib.parse.urlencode({"d": jsonpEscape(encodeTextPayload(messages))}).encode("ascii"),
        "application/x-www-form-urlencoded",
    )
    assert posted.status == 200, posted
    assert posted.body == b"ok", posted

    echoes = []
    while len(echoes) < len(messages):
        poll = request(server, "GET", sessionQuery)
        echoes += [p for p in decodeTextPayload(jsonpBody(poll, 4)) if p != "6"]
    assert echoes == messages


def test_eio3_xhr2_binary_payloads(server):
    """
    Without C{b64}, a post may be an C{application/octet-stream} binary
    payload mixing string and binary packets (string lengths in UTF-8
    bytes), and a poll carrying binary answers one too, with exactly that
    content type (engine.io-client 3.x only reads binary from
    C{application/octet-stream}).
    """
    handshake = request(server, "GET", {"EIO": "3", "transport": "polling"})
    assert handshake.status == 200, handshake
    sid = openPacket(decodeTextPayload(handshake.body.decode("utf-8")))["sid"]
    sessionQuery = {"EIO": "3", "transport": "polling", "sid": sid}

    blob = binaryData(3000)
    text = unicodeText(40)
    posted = request(
        server, "POST", sessionQuery, encodeBinaryPayload(["4hello", blob, "4" + text, b""]), "application/octet-stream"
    )
    assert posted.status == 200, posted
    assert posted.body == b"ok", posted

    expected = ["4hello", b"\x04" + blob, "4" + text, b"\x04"]
    got = []
    while len(got) < len(expected):
        poll = request(server, "GET", sessionQuery)
        assert poll.status == 200, poll
        if poll.contentType.split(";")[0].strip() == "application/octet-stream":
            assert poll.contentType in ("application/octet-stream", "application/octet-stream; charset=UTF-8"), poll
            got += decodeBinaryPayload(poll.body)
        else:
            got += decodeTextPayload(poll.body.decode("utf-8"))
        got = [p for p in got if p != "6"]
    assert got == expected
    # at least the poll carrying binary data was a binary payload
    assert any(isinstance(p, bytes) for p in got)


def test_eio3_base64_text_payloads(server):
    """
    With C{b64=1}: text payloads whose lengths count UTF-16 code units (an
    astral character counts two), and binary messages as C{b4<base64>}
    both ways.
    """
    handshake = request(server, "GET", {"EIO": "3", "transport": "polling", "b64": "1"})
    assert handshake.status == 200, handshake
    sid = openPacket(decodeTextPayload(handshake.body.decode("utf-8")))["sid"]
    sessionQuery = {"EIO": "3", "transport": "polling", "b64": "1", "sid": sid}

    astral = "4\U0001f600\U0001f601 \u00e9\u4e2d"
    blob = base64.b64encode(binaryData(300)).decode("ascii")
    messages = [astral, "b4" + blob, "4plain"]
    body = encodeTextPayload(messages)
    assert body.startswith("8:4\U0001f600")
    posted = request(server, "POST", sessionQuery, body.encode("utf-8"), "text/plain;charset=UTF-8")
    assert posted.status == 200, posted
    assert posted.body == b"ok", posted

    raw = ""
    got = []
    while len(got) < len(messages):
        poll = request(server, "GET", sessionQuery)
        assert poll.status == 200, poll
        assert not poll.contentType.startswith("application/octet-stream"), poll
        raw += poll.body.decode("utf-8")
        got += [p for p in decodeTextPayload(poll.body.decode("utf-8")) if p != "6"]
    assert got == messages
    assert f"{utf16Length(astral)}:{astral}" in raw


# ---------------------------------------------------------------------------
# the server closes a session during an upgrade


def encodeMessages(eio: str, packets: "list[str]") -> bytes:
    """
    A text polling payload of C{packets} for protocol C{eio}.
    """
    if eio == "4":
        return "\x1e".join(packets).encode("utf-8")
    return encodeTextPayload(packets).encode("utf-8")


def decodeMessages(eio: str, body: bytes) -> "list[str]":
    """
    The packets of a text polling payload of protocol C{eio}.
    """
    text = body.decode("utf-8")
    if eio == "4":
        return text.split("\x1e")
    return decodeTextPayload(text)


class PendingRequest:
    """
    A request sent at once, its response read later (a long poll).
    """

    def __init__(self, server, query: dict) -> None:
        self.connection = http.client.HTTPConnection(HOST, server.port, timeout=TIMEOUT)
        self.connection.request("GET", PATH + "?" + urllib.parse.urlencode(query))

    def response(self) -> Response:
        """
        Read the response (bounded by L{TIMEOUT}).
        """
        try:
            response = self.connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            self.connection.close()


def barrier(server) -> None:
    """
    Make sure the server has read every request sent so far: it answers
    this one (a poll for an unknown session, answered at once) after
    handling whatever arrived before it (both servers run one thread).
    """
    answer = request(server, "GET", {"EIO": "4", "transport": "polling", "sid": "no-such-session"})
    assert answer.status == 400, answer


def closeReasonOf(server, eio: str, sid: str) -> str:
    """
    Ask a new session how session C{sid} ended (C{whenclosed:SID}).
    """
    handshake = request(server, "GET", {"EIO": eio, "transport": "polling"})
    other = openPacket(decodeMessages(eio, handshake.body))["sid"]
    query = {"EIO": eio, "transport": "polling", "sid": other}
    posted = request(server, "POST", query, encodeMessages(eio, ["4whenclosed:" + sid]), "text/plain;charset=UTF-8")
    assert posted.status == 200, posted
    while True:
        poll = request(server, "GET", query)
        assert poll.status == 200, poll
        for packet in decodeMessages(eio, poll.body):
            if packet.startswith("4closed:"):
                return packet[len("4closed:"):]


@pytest.mark.parametrize("eio", ["4", "3"])
@pytest.mark.parametrize(
    "stage",
    [
        pytest.param("opened", id="websocket-opened"),
        pytest.param("probed", id="probed"),
        pytest.param("probed-after-poll", id="probed-after-poll"),
    ],
)
def test_server_close_during_upgrade(server, eio, stage):
    """
    A polling session has a WebSocket open for the upgrade (C{opened}),
    which may have been probed (C{2probe}, C{3probe}), with no poll pending
    or with one (which the probe answers with a C{noop}); then the
    application closes the session (C{drop}).  With no poll in hand, the
    server can only tell the client on its next poll: a close packet, or
    400 for a session already gone; the application then sees the session
    close.
    """
    handshake = request(server, "GET", {"EIO": eio, "transport": "polling"})
    assert handshake.status == 200, handshake
    sid = openPacket(decodeMessages(eio, handshake.body))["sid"]
    query = {"EIO": eio, "transport": "polling", "sid": sid}
    url = f"ws://{HOST}:{server.port}{PATH}?EIO={eio}&transport=websocket&sid={sid}"
    with websocketsClient.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        if stage == "probed-after-poll":
            pending = PendingRequest(server, query)
            barrier(server)
        if stage != "opened":
            ws.send("2probe")
            assert ws.recv(timeout=TIMEOUT) == "3probe"
        if stage == "probed-after-poll":
            released = pending.response()
            assert released.status == 200, released
            assert decodeMessages(eio, released.body) == ["6"], "the probe must answer the pending poll with a noop"

        posted = request(server, "POST", query, encodeMessages(eio, ["4drop"]), "text/plain;charset=UTF-8")
        assert posted.status == 200, posted
        poll = request(server, "GET", query)
        if poll.status == 200:
            packets = decodeMessages(eio, poll.body)
            assert "1" in packets, f"the poll after the close carried {packets!r}, no close packet"
        else:
            assert poll.status == 400, poll
        assert closeReasonOf(server, eio, sid) == SERVER_CLOSE[server.kind]
    server.checkAlive()
