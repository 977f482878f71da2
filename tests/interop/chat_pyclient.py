"""
Two python-socketio clients in the built-in chat demo (the default app's
C{/chat} namespace): nicknames, a message with its acknowledgement, a room
change, volatile typing notices and the C{left} notice.  Prints one JSON
line of what they saw.

    python chat_pyclient.py URL TRANSPORT
"""

import asyncio
import json
import sys

import socketio

STEP = 10.0


async def run(url: str, transports: list) -> dict:
    facts: dict = {}
    alice, bob = socketio.AsyncClient(), socketio.AsyncClient()
    inbox = {"alice": asyncio.Queue(), "bob": asyncio.Queue()}
    for name, client in (("alice", alice), ("bob", bob)):
        for event in ("joined", "left", "message", "typing"):
            client.on(event, namespace="/chat", handler=_recorder(inbox[name], event))
    await asyncio.wait_for(alice.connect(url, namespaces=["/chat"], transports=transports), STEP)
    facts["aliceJoined"] = await _next(inbox["alice"], "joined")
    facts["aliceNick"] = await alice.call("nick", "alice", namespace="/chat", timeout=STEP)
    await asyncio.wait_for(bob.connect(url, namespaces=["/chat"], transports=transports), STEP)
    facts["bobJoinedSeenByAlice"] = (await _next(inbox["alice"], "joined"))["room"]
    await _next(inbox["bob"], "joined")
    facts["bobNick"] = await bob.call("nick", "bob", namespace="/chat", timeout=STEP)
    facts["sent"] = await alice.call("message", "hello bob", namespace="/chat", timeout=STEP)
    got = await _next(inbox["bob"], "message")
    facts["bobGot"] = {k: got[k] for k in ("from", "text", "room")}
    facts["refused"] = await alice.call("message", "", namespace="/chat", timeout=STEP)
    # Typing notices are volatile: dropped for a client that cannot take
    # them at once (on polling, between two GETs); send until one arrives.
    for attempt in range(50):
        await alice.emit("typing", True, namespace="/chat")
        try:
            facts["typing"] = await _next(inbox["bob"], "typing", 0.2)
            break
        except asyncio.TimeoutError:
            continue
    facts["members"] = await bob.call("join", "garden", namespace="/chat", timeout=STEP)
    facts["bobLeftSeenByAlice"] = await _next(inbox["alice"], "left")
    await bob.disconnect()
    await alice.disconnect()
    return facts


def _recorder(queue, event):
    async def record(*args):
        await queue.put((event, args[0] if args else None))

    return record


async def _next(queue, event, timeout: float = STEP):
    while True:
        name, data = await asyncio.wait_for(queue.get(), timeout)
        if name == event:
            return data


def main() -> int:
    url, transport = sys.argv[1], sys.argv[2]
    transports = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[transport]
    try:
        facts = asyncio.run(run(url, transports))
    except Exception as e:
        print(json.dumps({"scenario": "chat", "error": f"{e.__class__.__name__}: {e}"}))
        return 1
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
