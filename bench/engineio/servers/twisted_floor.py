"""
The Twisted floor for the engine.io benchmark (C{bench/engineio/run.py
--servers ...,twisted-floor}): not a server anyone should use, but the least
Python a Twisted program can run per engine.io client on the default epoll
reactor, to tell what rtproto spends from what Twisted and the kernel
spend whatever the server does.

It speaks just enough engine.io v4 for the benchmark's clients (the real
C{engine.io-client} and C{rawclient.js}) to run the echo scenarios: the
polling handshake, held GETs, POSTs of messages, WebSocket connections
(direct or by upgrade with C{2probe}/C{3probe}/C{5}), the echo, the close.
Every request is parsed with a few C{bytes} operations and answered with
canned bytes; no error handling, no limits, no CORS, no v3, no
fragmented frames.  WebSocket writes of one read go out together, as
rtproto's do.  Each session
keeps a heartbeat timer (ping every 25 s), as any real server must.  Writes
take rtproto's shortcut (L{rtproto.tx._send.sendNow}: straight to an idle
socket), so that the floor is below rtproto's way of writing too.  TCP
listening backlog 1024, TCP_NODELAY on, like the other servers.
"""

import argparse
import base64
import hashlib
import json
import secrets

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol

from rtproto.tx._send import sendNow

PATH = b"/engine.io/"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
sessions = {}


def httpResponse(body: bytes, close: bool = False) -> bytes:
    """
    A 200 with C{body} as text.
    """
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: %d\r\n%s\r\n"
            % (len(body), b"Connection: close\r\n" if close else b"")) + body


def textFrame(data: bytes) -> bytes:
    """
    An unmasked server text frame.
    """
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + data


class Session:
    """
    One engine.io session: its held GET, its WebSocket, its buffer and its
    heartbeat timer.
    """

    def __init__(self, sid: str):
        self.sid = sid
        self.held = None
        self.ws = None
        self.probe = None
        self.buffer = []
        self.timer = reactor.callLater(25, self.ping)

    def ping(self):
        self.timer = reactor.callLater(25, self.ping)
        self.send(b"2")

    def send(self, packet: bytes):
        if self.ws is not None:
            self.ws.write(textFrame(packet))
        elif self.held is not None:
            held, self.held = self.held, None
            sendNow(held.transport, httpResponse(packet))
        else:
            self.buffer.append(packet)

    def close(self):
        sessions.pop(self.sid, None)
        if self.timer.active():
            self.timer.cancel()


class Connection(Protocol):
    """
    An HTTP/1.1 keep-alive connection that may become a WebSocket.
    """

    buf = b""
    ws = False
    session = None
    out = None
    closing = False

    def flush(self):
        """
        Send the batch now.
        """
        if self.out:
            sendNow(self.transport, b"".join(self.out))
            self.out = []

    def write(self, data: bytes):
        """
        Send C{data}, or add it to the batch of the read being handled.
        """
        if self.out is not None:
            self.out.append(data)
        else:
            sendNow(self.transport, data)

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data):
        buf = self.buf + data
        if self.ws:
            self.out = []
            self.buf = self.frames(buf)
            self.flush()
            self.out = None
            if self.closing:
                self.transport.loseConnection()
            return
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            lines = buf[:end].split(b"\r\n")
            method, uri, _ = lines[0].split(b" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(buf) < end + 4 + length:
                break
            body = buf[end + 4:end + 4 + length]
            buf = buf[end + 4 + length:]
            self.request(method, uri, headers, body)
            if self.ws:
                buf = self.frames(buf)
                break
        self.buf = buf

    def request(self, method, uri, headers, body):
        path, _, query = uri.partition(b"?")
        args = dict(part.partition(b"=")[::2] for part in query.split(b"&"))
        sid = args.get(b"sid")
        if args.get(b"transport") == b"websocket":
            key = headers[b"sec-websocket-key"]
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            sendNow(self.transport, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            self.ws = True
            if sid is None:
                session = self.open()
                session.ws = self
                sendNow(self.transport, textFrame(self.openPacket(session)))
            else:
                session = sessions[sid.decode()]
                session.probe = self
            self.session = session
            return
        if sid is None:
            session = self.open()
            sendNow(self.transport, httpResponse(self.openPacket(session)))
            return
        session = sessions[sid.decode()]
        if method == b"POST":
            for packet in body.split(b"\x1e"):
                self.packet(session, packet)
            sendNow(self.transport, httpResponse(b"ok"))
        elif session.buffer:
            packets, session.buffer = session.buffer, []
            sendNow(self.transport, httpResponse(b"\x1e".join(packets)))
        elif session.ws is not None or session.probe is not None:
            sendNow(self.transport, httpResponse(b"6"))
        else:
            session.held = self

    def open(self):
        session = Session(secrets.token_urlsafe(15))
        sessions[session.sid] = session
        return session

    def openPacket(self, session) -> bytes:
        return b"0" + json.dumps({"sid": session.sid, "upgrades": [] if self.ws else ["websocket"],
                                  "pingInterval": 25000, "pingTimeout": 20000,
                                  "maxPayload": 1000000}).encode()

    def packet(self, session, packet: bytes):
        if packet[:1] == b"4":
            session.send(packet)
        elif packet == b"1":
            session.close()

    def frames(self, buf: bytes) -> bytes:
        while len(buf) >= 6:
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            head = 6
            if n == 126:
                n, head = int.from_bytes(buf[2:4], "big"), 8
            elif n == 127:
                n, head = int.from_bytes(buf[2:10], "big"), 14
            if len(buf) < head + n:
                break
            mask = buf[head - 4:head] * (n // 4 + 1)
            payload = (int.from_bytes(buf[head:head + n], "big")
                       ^ int.from_bytes(mask[:n], "big")).to_bytes(n, "big")
            buf = buf[head + n:]
            if opcode == 8:
                self.write(bytes((0x88, len(payload))) + payload)
                self.closing = True
                return b""
            self.frame(payload)
        return buf

    def frame(self, payload: bytes):
        session = self.session
        if session.probe is self:
            if payload == b"2probe":
                self.write(textFrame(b"3probe"))
                self.flush()
                if session.held is not None:
                    held, session.held = session.held, None
                    sendNow(held.transport, httpResponse(b"6"))
            elif payload == b"5":
                session.probe = None
                session.ws = self
                packets, session.buffer = session.buffer, []
                for packet in packets:
                    self.write(textFrame(packet))
            return
        self.packet(session, payload)

    def connectionLost(self, reason):
        session = self.session
        if session is not None and (session.ws is self or session.probe is self):
            session.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    endpoint = TCP4ServerEndpoint(reactor, options.port, backlog=1024, interface="127.0.0.1")
    endpoint.listen(Factory.forProtocol(Connection))
    reactor.run()


if __name__ == "__main__":
    main()
