"""
A C{websockets} (asyncio) client driven by a JSON list of steps, for the
interop tests.  Run as a program::

    python ws_client.py --url ws://127.0.0.1:PORT/echo \\
        [--compression deflate|none] [--subprotocol NAME ...] \\
        [--max-size BYTES] --steps '[{"op": "echo", "payload": {...}}, ...]'

It prints one JSON object per line on stdout:

  - C{{"event": "open", "subprotocol", "extensions", "extensionsHeader"}}
    once connected (C{extensions}: names of the negotiated extensions as
    websockets itself sees them), or
    C{{"event": "connectFailed", "error", "status", "body"}} when the
    handshake was refused (C{status}: the HTTP status, if any);
  - one C{{"op": ...}} result per step (see L{runStep});
  - C{{"event": "error", ...}} if a step raised, after which it stops;
  - C{{"event": "end", "code", "reason"}} last, with the close code and
    reason websockets received.

Every await is bounded by L{STEP_TIMEOUT}.  The process exits by itself.
"""

import argparse
import asyncio
import json
import sys

from payloads import makePayload
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

STEP_TIMEOUT = 30.0


def emit(**event) -> None:
    """
    Print one JSON result line and flush it at once.
    """
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def kindOf(message) -> str:
    """
    C{"text"} or C{"binary"}.
    """
    return "text" if isinstance(message, str) else "binary"


def closeInfo(exc: ConnectionClosed) -> dict:
    """
    The close frames of a L{ConnectionClosed}, as JSON-able values.
    """
    return {
        "rcvd": [exc.rcvd.code, exc.rcvd.reason] if exc.rcvd else None,
        "sent": [exc.sent.code, exc.sent.reason] if exc.sent else None,
        "rcvdThenSent": exc.rcvd_then_sent,
    }


async def runStep(ws, step: dict) -> None:
    """
    Run one step and report it.

      - C{echo}: send C{payload}, receive one message, report whether it
        is equal and of the same type;
      - C{send}: send C{payload} (or literal C{text}) without waiting;
      - C{recv}: receive one message and report it (text up to 1000 chars);
      - C{ping}: ping and wait for the pong;
      - C{close}: close with C{code} and C{reason}, report what came back;
      - C{waitClose}: read (and count) messages until the peer closes.
    """
    op = step["op"]
    if op == "echo":
        payload = makePayload(step["payload"])
        await ws.send(payload)
        got = await ws.recv()
        emit(
            op="echo",
            name=step.get("name"),
            sentType=kindOf(payload),
            gotType=kindOf(got),
            equal=got == payload,
            sentLength=len(payload),
            gotLength=len(got),
        )
    elif op == "send":
        payload = step["text"] if "text" in step else makePayload(step["payload"])
        await ws.send(payload)
        emit(op="send", length=len(payload))
    elif op == "recv":
        got = await ws.recv()
        emit(op="recv", type=kindOf(got), length=len(got), text=got[:1000] if isinstance(got, str) else None)
    elif op == "ping":
        pong = await ws.ping(b"interop")
        await pong
        emit(op="ping", ok=True)
    elif op == "close":
        await ws.close(step.get("code", 1000), step.get("reason", ""))
        emit(op="close", code=ws.close_code, reason=ws.close_reason)
    elif op == "waitClose":
        received = 0
        try:
            while True:
                await ws.recv()
                received += 1
        except ConnectionClosed as exc:
            emit(op="waitClose", received=received, **closeInfo(exc))
    else:
        raise ValueError(f"unknown step {op!r}")


async def main(argv: "list[str]") -> None:
    """
    Connect, run the steps, close if still open, report.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--max-size", type=int, default=8 << 20)
    parser.add_argument("--steps", default="[]")
    args = parser.parse_args(argv)
    steps = json.loads(args.steps)
    try:
        ws = await connect(
            args.url,
            compression="deflate" if args.compression == "deflate" else None,
            subprotocols=args.subprotocol or None,
            max_size=args.max_size or None,
            open_timeout=STEP_TIMEOUT,
            close_timeout=STEP_TIMEOUT,
            ping_interval=None,
        )
    except InvalidStatus as exc:
        emit(
            event="connectFailed",
            error="InvalidStatus",
            status=exc.response.status_code,
            body=exc.response.body.decode("utf-8", "replace"),
        )
        return
    except Exception as exc:
        emit(event="connectFailed", error=type(exc).__name__, status=None, body=str(exc))
        return
    emit(
        event="open",
        subprotocol=ws.subprotocol,
        extensions=[ext.name for ext in ws.protocol.extensions],
        extensionsHeader=ws.response.headers.get("Sec-WebSocket-Extensions"),
    )
    try:
        for step in steps:
            async with asyncio.timeout(STEP_TIMEOUT):
                await runStep(ws, step)
    except ConnectionClosed as exc:
        emit(event="error", op=step["op"], error=type(exc).__name__, message=str(exc), **closeInfo(exc))
    except Exception as exc:
        emit(event="error", op=step["op"], error=type(exc).__name__, message=str(exc))
    finally:
        async with asyncio.timeout(STEP_TIMEOUT):
            await ws.close()
    emit(event="end", code=ws.close_code, reason=ws.close_reason)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
