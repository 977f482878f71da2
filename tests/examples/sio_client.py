"""
Two python-socketio C{AsyncClient}s (and one with a bad token) against
C{examples.sioauth} (run by C{test_sioauth.py}): prints one JSON object of
what they saw.

Usage: sio_client.py URL TRANSPORT
"""

import asyncio
import json
import sys

import socketio

NSP = "/rooms"
WAIT = 10


def client(events: asyncio.Queue) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("*", namespace=NSP)
    async def anyEvent(event, *args):
        await events.put([event, *args])

    @sio.on("connect_error", namespace=NSP)
    async def refused(data):
        await events.put(["connect_error", data])

    return sio


async def main(url: str, transport: str) -> None:
    facts = {}
    badEvents = asyncio.Queue()
    bad = client(badEvents)
    try:
        await bad.connect(url, namespaces=[NSP], auth={"token": "nope"}, transports=[transport], wait_timeout=WAIT)
        facts["badConnected"] = True
    except socketio.exceptions.ConnectionError:
        facts["badConnected"] = False
    facts["refused"] = await asyncio.wait_for(badEvents.get(), WAIT)
    await bad.disconnect()

    aliceEvents, bobEvents = asyncio.Queue(), asyncio.Queue()
    alice, bob = client(aliceEvents), client(bobEvents)
    await alice.connect(url, namespaces=[NSP], auth={"token": "alice-token"}, transports=[transport], wait_timeout=WAIT)
    await bob.connect(url, namespaces=[NSP], auth={"token": "bob-token"}, transports=[transport], wait_timeout=WAIT)
    facts["welcome"] = [await asyncio.wait_for(q.get(), WAIT) for q in (aliceEvents, bobEvents)]
    facts["aliceJoin"] = await alice.call("join", "r1", namespace=NSP, timeout=WAIT)
    facts["bobJoin"] = await bob.call("join", "r1", namespace=NSP, timeout=WAIT)
    facts["aliceSawJoin"] = await asyncio.wait_for(aliceEvents.get(), WAIT)
    facts["sayAck"] = await alice.call("say", ("r1", "hello"), namespace=NSP, timeout=WAIT)
    facts["bobHeard"] = await asyncio.wait_for(bobEvents.get(), WAIT)
    facts["aliceHeard"] = await asyncio.wait_for(aliceEvents.get(), WAIT)
    facts["sayElsewhere"] = await bob.call("say", ("r2", "hi"), namespace=NSP, timeout=WAIT)
    facts["bobRooms"] = await bob.call("rooms", namespace=NSP, timeout=WAIT)
    await bob.disconnect()
    facts["aliceSawLeave"] = await asyncio.wait_for(aliceEvents.get(), WAIT)
    await alice.disconnect()
    print(json.dumps(facts), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
