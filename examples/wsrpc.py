"""
A WebSocket subprotocol: JSON-RPC 2.0 over the subprotocol C{rpc.v1}.

Run it from the repository's root::

    PYTHONPATH=. twistd -n rtproto --no-demo --ws /rpc=examples.wsrpc.RPCHandler

The handshake hook accepts only clients offering C{rpc.v1}; the others
are refused with C{400}.  Each text message is one request::

    {"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2, 3]}
    -> {"jsonrpc": "2.0", "id": 1, "result": 5}

Methods: C{add(a, b)}, C{upper(text)}, C{sum(numbers)}.  A request
without an C{id} is a notification: it is run, not answered.  Mistakes in
a well-formed request (an unknown method, bad parameters) are answered
with a JSON-RPC error; a message that is not a request at all ends the
connection with a close code that says why:

  - 1003 (unsupported data): a binary message;
  - 1007 (invalid payload): text that is not JSON;
  - 1008 (policy violation): JSON that is not a JSON-RPC 2.0 request.
"""

import json

from rtproto.errors import ConnectionDeny
from rtproto.websocket import CLOSE_INVALID_PAYLOAD, CLOSE_POLICY_VIOLATION, WebSocketHandler

SUBPROTOCOL = "rpc.v1"
CLOSE_UNSUPPORTED_DATA = 1003

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


class InvalidParams(Exception):
    """
    The parameters do not suit the method.
    """


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParams("numbers expected")
    return value


def add(a, b):
    """
    C{a + b}.
    """
    return _number(a) + _number(b)


def upper(text):
    """
    C{text} in capitals.
    """
    if not isinstance(text, str):
        raise InvalidParams("a string expected")
    return text.upper()


def sum_(numbers):
    """
    The sum of a list of numbers.
    """
    if not isinstance(numbers, list):
        raise InvalidParams("a list expected")
    return sum(_number(n) for n in numbers)


METHODS = {"add": add, "upper": upper, "sum": sum_}


def isRequest(message) -> bool:
    """
    Whether a decoded message is a JSON-RPC 2.0 request: an object with
    C{"jsonrpc": "2.0"}, a string C{method}, C{params} (if any) a list or
    an object, and C{id} (if any) a string, an integer or C{null}.
    """
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    if not isinstance(message.get("method"), str):
        return False
    if "params" in message and not isinstance(message["params"], (list, dict)):
        return False
    ident = message.get("id")
    return ident is None or (isinstance(ident, (str, int)) and not isinstance(ident, bool))


class RPCHandler(WebSocketHandler):
    """
    One JSON-RPC client.
    """

    def handshake(self, request):
        """
        Accept only clients that speak C{rpc.v1}.
        """
        if SUBPROTOCOL not in request.subprotocols:
            raise ConnectionDeny(ConnectionDeny.BAD_REQUEST, f"offer the WebSocket subprotocol {SUBPROTOCOL}")
        return SUBPROTOCOL

    def textReceived(self, text):
        """
        Run one request; answer it unless it is a notification.
        """
        try:
            message = json.loads(text)
        except ValueError:
            self.connection.close(CLOSE_INVALID_PAYLOAD, "not JSON")
            return
        if not isRequest(message):
            self.connection.close(CLOSE_POLICY_VIOLATION, "not a JSON-RPC 2.0 request")
            return
        reply = self.call(message["method"], message.get("params", []))
        if "id" in message:
            reply["jsonrpc"], reply["id"] = "2.0", message["id"]
            self.connection.sendText(json.dumps(reply))

    def call(self, name, params) -> dict:
        """
        Run method C{name}: C{{"result": ...}} or C{{"error": ...}}.
        """
        method = METHODS.get(name)
        if method is None:
            return {"error": {"code": METHOD_NOT_FOUND, "message": f"no method {name!r}"}}
        try:
            result = method(**params) if isinstance(params, dict) else method(*params)
        except (InvalidParams, TypeError) as e:
            return {"error": {"code": INVALID_PARAMS, "message": str(e)}}
        return {"result": result}

    def binaryReceived(self, data):
        """
        This protocol is text only.
        """
        self.connection.close(CLOSE_UNSUPPORTED_DATA, "binary messages are not supported")
