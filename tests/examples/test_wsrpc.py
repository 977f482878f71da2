"""
C{examples.wsrpc}: JSON-RPC 2.0 over the WebSocket subprotocol C{rpc.v1};
unit tests with L{rtproto.testing}, and the C{websockets} client over
loopback.
"""

import json

import pytest
import pytest_twisted

from examples.wsrpc import SUBPROTOCOL, RPCHandler, isRequest
from rtproto.errors import ConnectionDeny
from rtproto.testing import FakeHandshakeRequest, openWebSocket, resultOf
from rtproto.tx import buildSite

from .support import listen, runClient


def opened():
    return resultOf(openWebSocket(RPCHandler(), FakeHandshakeRequest("/rpc", subprotocols=["x", SUBPROTOCOL])))


def call(connection, **request):
    connection.receiveText(json.dumps({"jsonrpc": "2.0", **request}))
    return json.loads(connection.sent[-1])


def test_handshakeNeedsSubprotocol():
    """
    C{rpc.v1} is chosen when offered; a client not offering it is refused
    with 400.
    """
    assert opened().subprotocol == SUBPROTOCOL
    for offered in ([], ["chat.v1"]):
        with pytest.raises(ConnectionDeny) as e:
            resultOf(openWebSocket(RPCHandler(), FakeHandshakeRequest(subprotocols=offered)))
        assert e.value.status == 400 and SUBPROTOCOL in e.value.reason


def test_methods():
    """
    Each method answers with the request's id; parameters by position or
    by name.
    """
    connection = opened()
    assert call(connection, id=1, method="add", params=[2, 3.5]) == {"jsonrpc": "2.0", "id": 1, "result": 5.5}
    assert call(connection, id="u", method="upper", params={"text": "abc"})["result"] == "ABC"
    assert call(connection, id=None, method="sum", params=[[1, 2, 3]])["result"] == 6


def test_notificationNotAnswered():
    """
    A request without an id is run but not answered.
    """
    connection = opened()
    connection.receiveText(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [1, 1]}))
    assert connection.sent == [] and not connection.closed


def test_applicationErrors():
    """
    An unknown method, or parameters that do not fit, are answered with a
    JSON-RPC error and the connection stays open.
    """
    connection = opened()
    assert call(connection, id=1, method="nope")["error"]["code"] == -32601
    assert call(connection, id=2, method="add", params=[1, "2"])["error"]["code"] == -32602
    assert call(connection, id=3, method="add", params=[True, 2])["error"]["code"] == -32602
    assert call(connection, id=4, method="add", params=[1])["error"]["code"] == -32602
    assert call(connection, id=5, method="sum", params=["x"])["error"]["code"] == -32602
    assert not connection.closed


@pytest.mark.parametrize(
    "message, code",
    [
        ("{oops", 1007),
        ("[1, 2]", 1008),
        ('{"jsonrpc": "1.0", "method": "add"}', 1008),
        ('{"jsonrpc": "2.0", "method": 5}', 1008),
        ('{"jsonrpc": "2.0", "method": "add", "params": 5}', 1008),
        ('{"jsonrpc": "2.0", "method": "add", "id": [1]}', 1008),
        ('{"jsonrpc": "2.0", "method": "add", "id": true}', 1008),
    ],
)
def test_badInputCloses(message, code):
    """
    Text that is not JSON closes with 1007, JSON that is not a request with
    1008; nothing is answered.
    """
    connection = opened()
    connection.receiveText(message)
    assert (connection.closeCode, connection.sent) == (code, [])


def test_binaryCloses():
    """
    A binary message closes with 1003.
    """
    connection = opened()
    connection.receiveBinary(b"\x00")
    assert connection.closeCode == 1003
    connection.receiveClose()
    assert connection.closedWith == (1003, "binary messages are not supported", True)


def test_isRequest():
    """
    The shape of a request.
    """
    assert isRequest({"jsonrpc": "2.0", "method": "m"})
    assert isRequest({"jsonrpc": "2.0", "method": "m", "params": {}, "id": "x"})
    assert not isRequest({"method": "m"})


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_websocketsClient(reactor, cleanup):
    """
    The C{websockets} client over loopback: C{rpc.v1} negotiated among the
    offered subprotocols, answers (and none to a notification), close codes
    1007 and 1003 for bad input, 400 without the subprotocol.
    """
    port = listen(reactor, buildSite([("/rpc", RPCHandler)], reactor=reactor), cleanup)
    facts = await runClient(reactor, cleanup, "ws_client.py", f"ws://127.0.0.1:{port}/rpc")
    assert facts["subprotocol"] == "rpc.v1"
    assert facts["replies"] == [
        {"jsonrpc": "2.0", "id": 1, "result": 5},
        {"jsonrpc": "2.0", "id": "b", "result": "HÉLLO"},
        {"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "no method 'nope'"}},
    ]
    assert facts["badJson"] == [1007, "not JSON"]
    assert facts["binary"] == [1003, "binary messages are not supported"]
    assert facts["refused"][0] == 400 and "rpc.v1" in facts["refused"][1]
