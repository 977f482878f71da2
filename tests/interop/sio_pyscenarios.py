"""
The scenarios of C{sio_pyclient.py}, python-socketio's C{AsyncClient}
against the socket.io test application: the same as C{sio_client.js}'s for
the Node clients, adapted where python-socketio differs:

  - it connects every namespace of a connection at once (none can be added
    later) and cannot leave one namespace alone (C{disconnect()} leaves them
    all): C{namespaces} leaves C{/other} with the server's C{disconnect-me};
  - it answers every event that asks for an ack, with what the handler
    returns (no arguments for C{None}): it cannot let the server's ack time
    out (C{basic} checks that answer instead);
  - python-engineio upgrades to WebSocket inside C{connect()}, before any
    namespace connects: C{upgrade} cannot have messages in flight across
    the upgrade, only check 200 echoes on the upgraded connection;
  - it implements no connection state recovery (its CONNECT packets carry
    no C{pid}/C{offset}): there is no C{recovery} scenario.

Each scenario takes the parsed arguments and the observations it fills in.
"""

import secrets

from tests.interop.eio_app import asciiText, binaryData, unicodeText
from tests.interop.sio_pyclient import Conn, bounded, compare
from tests.interop.sio_support import canonText


def nested(depth: int):
    """
    Lists and objects nested C{depth} deep (as C{sio_scenarios.js}).
    """
    value = "bottom"
    for i in range(depth):
        value = {"level": i, "next": value} if i % 2 else [i, value]
    return value


JSON_CASES = [
    ("no arguments", []),
    ("null", [None]),
    ("booleans", [True, False]),
    ("numbers", [0, -1, 1.5, -0.25, 9007199254740991, -9007199254740991, 1e300, 5e-324]),
    ("strings", ["", "hello", 'with "quotes", \\backslashes\\ and\nnewlines\t']),
    ("unicode", [unicodeText(33), "é€中", "😀👍🏽🇫🇷", "\u2028\u2029", "\x00", "\ufeffbom"]),
    (
        "strings that look like packets",
        ['2["echo","x"]', '42/other,7["a"]', '451-["a",{"_placeholder":true,"num":0}]', "0", "1", "3", "40", "6", "b4AQID",
         '4{"message":"x"}', "/other,"],
    ),
    ("arrays", [[], [1, [2, [3, []]]], ["a", None, True, 1.5]]),
    ("objects", [{}, {"a": 1, "é": {"b": [None]}, "": "", "with space": {"😀": "x"}}]),
    ("placeholder-like object", [{"_placeholder": True, "num": 0}]),
    ("deep nesting", [nested(40)]),
    ("twenty arguments", [f"a{i}" if i % 2 else i for i in range(20)]),
]

BINARY_CASES = [
    ("bytes", [bytes([0, 1, 2, 253, 254, 255])]),
    ("empty bytes", [b""]),
    ("256 bytes", [bytes(range(256))]),
    ("bytes nested in dicts and lists", [{"a": b"x", "list": [b"\x01", "text", {"deep": [b"\x02\x03", None]}]}, b"\x09"]),
    ("text, bytes, number", ["s", b"\x07", 1]),
    ("same bytes twice", [[b"\x05\x05", b"\x05\x05"]]),
]


async def echoAll(c: Conn, ns: str, cases) -> list:
    """
    Echo each case; compare.
    """
    results = []
    for name, args in cases:
        await c.emit(ns, "echo", *args)
        got = await c.next(ns, "echo")
        results.append({"name": name, "problem": compare(args, got["args"])})
    return results


async def ackAll(c: Conn, ns: str, cases) -> list:
    """
    Send each case to C{ack}; compare the ack's arguments.
    """
    results = []
    for name, args in cases:
        results.append({"name": name, "problem": compare(args, await c.call(ns, "ack", *args))})
    return results


async def basic(args, facts) -> None:
    """
    Echo of every JSON type and of bytes, acks both ways (an unanswered
    server ack included), whoami, a clean disconnect.
    """
    c = Conn(args, ["/"], answers={("/", "please-ack"): lambda a: ("got", *a), ("/", "unanswered"): lambda a: None})
    await c.open()
    facts["sid"] = c.sio.get_sid("/")
    facts["transportAtOpen"] = c.sio.transport()
    facts["echoes"] = await echoAll(c, "/", JSON_CASES + BINARY_CASES)
    facts["acks"] = await ackAll(c, "/", JSON_CASES + BINARY_CASES)
    facts["serverAcks"] = []
    for name, sent in [("values", [1, "two", {"three": [3]}]), ("binaries", [{"b": b"\x01\x02\x03"}, [b"\x04"]]), ("no arguments", [])]:
        await c.emit("/", "request-ack", "please-ack", *sent)
        asked = await c.next("/", "please-ack")
        result = await c.next("/", "ack-result")
        facts["serverAcks"].append({
            "name": name,
            "askedProblem": compare(sent, asked["args"]),
            "problem": compare([{"response": ["got", *sent]}], result["args"]),
        })
    await c.emit("/", "request-ack", "unanswered", 1)
    facts["unanswered"] = (await c.next("/", "ack-result"))["args"]
    facts["whoami"] = await c.whoami("/")
    facts["transport"] = c.sio.transport()
    facts["offsets"] = c.offsets("/")
    await c.close()
    facts["life"] = c.life["/"]


async def upgrade(args, facts) -> None:
    """
    Polling, then the upgrade (inside C{connect()}), then 200 echoes (every
    third one with bytes) sent back to back, echoed in order.
    """
    args.transports = ["polling", "websocket"]
    c = Conn(args, ["/"])
    await c.open()
    facts["transportAtOpen"] = c.sio.transport()
    expected = []
    for i in range(200):
        sent = [i, {"bin": f"c{i}".encode()}] if i % 3 == 2 else [i, f"c{i}"]
        await c.emit("/", "echo", *sent)
        expected.append(canonText(sent))
    facts["echoes"] = [canonText((await c.next("/", "echo"))["args"]) for _ in range(200)]
    facts["expectedEchoes"] = expected
    facts["transport"] = c.sio.transport()
    facts["offsets"] = c.offsets("/")
    await c.close()


async def big(args, facts) -> None:
    """
    1 MiB payloads, text and bytes, both ways (server at
    C{--max-http-buffer-size 4000000}).
    """
    c = Conn(args, ["/"])
    await c.open()
    mib = 1 << 20
    cases = [
        ("1 MiB text", [asciiText(mib)]),
        ("300k code points of unicode", [unicodeText(300000)]),
        ("1 MiB of bytes nested in a dict", [{"name": "big", "data": binaryData(mib)}]),
        ("two 512 KiB bytes", [binaryData(mib // 2), [binaryData(mib // 2)]]),
    ]
    facts["echoes"] = await echoAll(c, "/", cases)
    facts["acks"] = await ackAll(c, "/", [cases[0], cases[2]])
    facts["transport"] = c.sio.transport()
    facts["life"] = list(c.life["/"])
    await c.close()


async def namespaces(args, facts) -> None:
    """
    C{/}, C{/other}, a dynamic namespace and an unknown one on one
    connection; the server disconnects C{/other} alone.
    """
    names = {"main": "/", "other": "/other", "dyn": "/dyn-abc"}
    c = Conn(args, [*names.values(), "/nope"])
    await c.open(wait=list(names.values()))
    facts["refused"] = await c.lifeEvent("/nope", "connect_error")
    facts["engineId"] = c.sio.eio.sid
    facts["clientSids"] = {k: c.sio.get_sid(ns) for k, ns in names.items()}
    facts["whoami"] = {k: await c.whoami(ns) for k, ns in names.items()}
    for k, ns in names.items():
        await c.emit(ns, "echo", "to " + k)
    for ns in names.values():
        await c.next(ns, "echo")
    await c.emit("/other", "disconnect-me", False)
    facts["otherDisconnect"] = (await c.lifeEvent("/other", "disconnect"))["reason"]
    sids = list(facts["clientSids"].values())
    facts["reasons"] = [r for r in (await c.call("/", "reasons"))[0] if r["sid"] in sids]
    for k in ("main", "dyn"):
        await c.emit(names[k], "echo", "again " + k)
        await c.next(names[k], "echo")
    facts["events"] = {k: c.summary(ns) for k, ns in names.items()}
    facts["engineIdAfter"] = c.sio.eio.sid
    facts["connectedNamespaces"] = sorted(c.sio.namespaces)
    facts["life"] = c.life
    await c.close()


async def auth(args, facts) -> None:
    """
    The C{/auth} middleware: C{auth={"token": "secret"}} is accepted, a
    wrong token or none refused.
    """
    good = Conn(args, ["/auth"], auth={"token": "secret"})
    await good.open()
    facts["whoami"] = await good.whoami("/auth")
    await good.emit("/auth", "echo", "authorized")
    facts["echo"] = (await good.next("/auth", "echo"))["args"]
    facts["refused"] = {}
    facts["connectedAfterRefusal"] = {}
    for name, token in [("wrong token", {"token": "guess"}), ("no token", None)]:
        p = Conn(args, ["/auth"], auth=token)
        await p.open(wait=[])
        facts["refused"][name] = await p.lifeEvent("/auth", "connect_error")
        facts["connectedAfterRefusal"][name] = sorted(p.sio.namespaces)
        await p.close()
    await good.close()


async def rooms(args, facts) -> None:
    """
    Three clients in one room (as C{sio_sessions.js}'s C{rooms}): to-room
    (the sender excluded), to-room-all, broadcast-except, broadcast-ack,
    leave; absences seen from later markers.
    """

    def voter(name: str):
        return lambda voteArgs: name

    peers = [Conn(args, ["/"], name=n, answers={("/", "vote"): voter(n)}) for n in ("a", "b", "c")]
    a, b, c = peers
    for p in peers:
        await p.open()
    tag = secrets.token_hex(4)
    room, ex = f"room-{tag}", f"ex-{tag}"
    facts.update(room=room, ex=ex, sids=[p.sio.get_sid("/") for p in peers])
    facts["joins"] = [(await p.call("/", "join", room))[0] for p in peers] + [(await c.call("/", "join", ex))[0]]
    facts["rooms"] = [(await p.call("/", "rooms"))[0] for p in peers]

    await a.emit("/", "to-room", room, "hello", "from a", {"bin": b"\x01\x02"})
    await a.emit("/", "to-room-all", room, "marker", 1)
    for p in peers:
        await p.next("/", "marker")
    await b.emit("/", "to-room-all", room, "all", "from b")
    for p in peers:
        await p.next("/", "all")
    await a.emit("/", "broadcast-except", room, ex, "news", "n1")
    await a.emit("/", "to-room-all", room, "marker", 2)
    for p in peers:
        await p.next("/", "marker")
    facts["vote"] = (await a.call("/", "broadcast-ack", room, "vote", "q?"))[0]
    facts["leave"] = (await c.call("/", "leave", room))[0]
    facts["roomsAfterLeave"] = (await c.call("/", "rooms"))[0]
    await a.emit("/", "to-room-all", room, "after-leave", "x")
    await a.emit("/", "to-room-all", ex, "marker", 3)
    await a.emit("/", "to-room-all", room, "marker", 4)
    for p in peers:
        await p.next("/", "marker")

    facts["events"] = [p.summary("/") for p in peers]
    facts["offsets"] = [p.offsets("/") for p in peers]
    for p in peers:
        await p.close()


async def serverDisconnect(args, facts) -> None:
    """
    C{disconnect-me}: C{/other} alone, then from C{/} everything; the client
    does not reconnect.
    """
    names = {"main": "/", "other": "/other", "dyn": "/dyn-x"}
    c = Conn(args, list(names.values()))
    await c.open()
    facts["sids"] = {k: c.sio.get_sid(ns) for k, ns in names.items()}
    await c.emit("/other", "disconnect-me", False)
    facts["otherReason"] = (await c.lifeEvent("/other", "disconnect"))["reason"]
    await c.emit("/", "echo", "still here")
    facts["echoAfterOther"] = (await c.next("/", "echo"))["args"]
    await c.emit("/", "disconnect-me", True)
    facts["mainReason"] = (await c.lifeEvent("/", "disconnect"))["reason"]
    facts["dynReason"] = (await c.lifeEvent("/dyn-x", "disconnect"))["reason"]
    # (python-socketio decides whether to reconnect before the engine.io
    # connection's read loop ends)
    await bounded(c.sio.eio.wait(), args.timeout, "the engine.io connection to end")
    facts["eioState"] = c.sio.eio.state
    facts["reconnecting"] = c.sio._reconnect_task is not None  # (no public flag)
    facts["connected"] = c.sio.connected
    t = Conn(args, ["/"])
    await t.open()
    sids = list(facts["sids"].values())
    facts["reasons"] = [r for r in (await t.call("/", "reasons"))[0] if r["sid"] in sids]
    facts["life"] = c.life
    await t.close()
    await c.close()


async def reconnect(args, facts) -> None:
    """
    C{drop-transport}: both namespaces see the disconnect, then reconnect
    with new sids.  python-socketio reconnects on its own (0.1 s delay)
    after a transport error (a WebSocket closed without a close packet),
    but not after an engine.io close packet ("server disconnect", what
    polling gets): then the scenario connects a new client.
    """
    c = Conn(args, ["/", "/other"])
    await c.open()
    facts["engineIds"] = [c.sio.eio.sid]
    facts["first"] = {ns: await c.whoami(ns) for ns in c.namespaces}
    await c.emit("/", "drop-transport")
    facts["reasons"] = {ns: (await c.lifeEvent(ns, "disconnect"))["reason"] for ns in c.namespaces}
    # (python-socketio has decided by now: it starts its reconnection task
    # in the same turn as it calls the disconnect handlers; no public flag)
    facts["reconnecting"] = c.sio._reconnect_task is not None
    if facts["reconnecting"]:
        for ns in c.namespaces:
            await c.lifeEvent(ns, "connect", 2)
        d = c
    else:
        # (connecting the same client again could race with the end of its
        # previous connection: python-engineio resets it after the
        # disconnect handlers ran)
        d = Conn(args, c.namespaces)
        await d.open()
    facts["second"], facts["echoes"] = {}, {}
    for ns in d.namespaces:
        facts["second"][ns] = await d.whoami(ns)
        await d.emit(ns, "echo", "again " + ns)
        facts["echoes"][ns] = (await d.next(ns, "echo"))["args"]
    facts["engineIds"].append(d.sio.eio.sid)
    sids = [w["sid"] for w in facts["first"].values()]
    facts["serverReasons"] = [r for r in (await d.call("/", "reasons"))[0] if r["sid"] in sids]
    facts["life"] = c.life
    await d.close()
    if d is not c:
        await c.close()


SCENARIOS = {
    "basic": basic,
    "upgrade": upgrade,
    "big": big,
    "namespaces": namespaces,
    "auth": auth,
    "rooms": rooms,
    "server-disconnect": serverDisconnect,
    "reconnect": reconnect,
}
