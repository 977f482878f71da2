"""
Tests for L{rtproto.tx._send}.
"""

from twisted.internet.testing import StringTransport


class TestSendNow:
    """
    L{sendNow} sends at once on an idle plain TCP connection and otherwise
    keeps Twisted's write path and its order.
    """

    class FakeSocket:
        def __init__(self, take):
            self.take = take
            self.sent = []

        def send(self, data):
            if self.take is None:
                raise BlockingIOError()
            chunk = data[: self.take]
            self.sent.append(chunk)
            return len(chunk)

    class FakeTCP:
        def __init__(self, socket):
            self.socket = socket
            self._tempDataLen = 0
            self.dataBuffer = b""
            self.offset = 0
            self.connected = True
            self.disconnecting = False
            self.TLS = False
            self.written = []

        def write(self, data):
            self.written.append(data)

    def send(self, monkeypatch, take, **state):
        from rtproto.tx import _send

        monkeypatch.setattr(_send, "_tcpServer", self.FakeTCP)
        transport = self.FakeTCP(self.FakeSocket(take))
        for name, value in state.items():
            setattr(transport, name, value)
        _send.sendNow(transport, b"abcdef")
        return transport.socket.sent, transport.written

    def test_idleSendsAtOnce(self, monkeypatch):
        assert self.send(monkeypatch, 100) == ([b"abcdef"], [])

    def test_partialSendQueuesTheRest(self, monkeypatch):
        assert self.send(monkeypatch, 2) == ([b"ab"], [b"cdef"])

    def test_wouldBlockQueuesAll(self, monkeypatch):
        assert self.send(monkeypatch, None) == ([], [b"abcdef"])

    def test_queuedDataKeepsOrder(self, monkeypatch):
        assert self.send(monkeypatch, 100, _tempDataLen=3) == ([], [b"abcdef"])
        assert self.send(monkeypatch, 100, dataBuffer=b"xyz") == ([], [b"abcdef"])

    def test_startedTLSWrites(self, monkeypatch):
        """
        A TCP connection that started TLS encrypts in its C{write}: nothing
        goes to the socket directly.
        """
        assert self.send(monkeypatch, 100, TLS=True) == ([], [b"abcdef"])

    def test_largeDataWrites(self, monkeypatch):
        from rtproto.tx import _send

        monkeypatch.setattr(_send, "_tcpServer", self.FakeTCP)
        transport = self.FakeTCP(self.FakeSocket(10**9))
        data = b"x" * _send.SEND_NOW_LIMIT
        _send.sendNow(transport, data)
        assert (transport.socket.sent, transport.written) == ([], [data])

    def test_otherTransportsWrite(self):
        from rtproto.tx._send import sendNow

        transport = StringTransport()
        sendNow(transport, b"abc")
        assert transport.value() == b"abc"
