"""
socket.io packets: the seven packet types, how one packet is written as an
engine.io text message followed by its binary attachments, and how such
messages are read back, in protocol revisions 5 (socket.io v3 and later,
over engine.io 4) and 4 (socket.io v1/v2, over engine.io 3).

The text form is::

    <type>[<attachment count>-][<namespace>,][<ack id>][<JSON data>]

The namespace is written only when it is not C{"/"}; the attachment count
only for BINARY_EVENT and BINARY_ACK, whose JSON data holds a placeholder
C{{"_placeholder":true,"num":N}} where the N-th attachment (an engine.io
binary message of its own) goes.

Choices where the spec leaves room, checked against the reference parser
(socket.io-parser 4.x for revision 5, 3.4 for revision 4):

  - Event names may be strings or numbers, as the parser accepts. In
    revision 5 the names the parser reserves (C{connect}, C{connect_error},
    C{disconnect}, C{disconnecting}, C{newListener}, C{removeListener}) are
    refused both ways: a v3+ client closes the connection on them.
  - EVENT and ACK must carry data (the spec: "the payload is mandatory"),
    though the parser lets a packet without any through unchecked.
  - An ack id is allowed on EVENT and ACK (and their binary twins) only, and
    must fit in a JavaScript safe integer (at most 2**53 - 1).
  - A namespace runs to the first C{","} or to the end of the packet
    (clients send C{0/admin} without the comma); in revision 4 a CONNECT's
    namespace carries the client's query after a C{"?"}, split into
    L{Packet.query}; elsewhere a C{"?"} is just part of the namespace. A
    namespace holding a C{","} cannot be written (the current parser's
    encoder refuses it too).
  - An empty message is refused (the parser would read it as a CONNECT).
  - A binary packet declares at least one and at most C{maxAttachments}
    attachments, as the current parser does. An attachment that no
    placeholder refers to is dropped, and one referred to twice appears
    twice, as in the parser. Placeholders in a packet that is not binary are
    left alone, as plain objects. A dict with a C{"_placeholder"} key that
    is not exactly C{true} is refused.
  - A decoded binary packet comes back as EVENT or ACK (as the revision 5
    parser does): whether data held bytes is a matter of the wire only.
  - The JSON data is read strictly: no NaN, Infinity or numbers too large
    for a double, and no whitespace around it (C{JSON.stringify} writes
    none).
"""

import json
from dataclasses import dataclass

from rtproto.errors import SocketIOProtocolError, UsageError

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)

TYPE_NAMES = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK")

PROTOCOLS = (4, 5)

RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)

MAX_ACK_ID = 2**53 - 1

_TYPE_CHARS = "0123456"
_MAX_ACK_DIGITS = len(str(MAX_ACK_ID))
_MAX_COUNT_DIGITS = 10
_BINARY_TYPES = (bytes, bytearray, memoryview)
# the type written for a packet without attachments, and with some
_PLAIN_TYPE = "0123423"
_BINARY_TYPE = {EVENT: "5", BINARY_EVENT: "5", ACK: "6", BINARY_ACK: "6"}


@dataclass(slots=True, repr=False)
class Packet:
    """
    One socket.io packet.

    @ivar type: one of L{CONNECT}, L{DISCONNECT}, L{EVENT}, L{ACK},
        L{CONNECT_ERROR}, L{BINARY_EVENT}, L{BINARY_ACK}.
    @ivar namespace: the namespace, starting with C{"/"}.
    @ivar data: a JSON-compatible value, or L{None} for no data; after
        decoding, L{bytes} may appear anywhere in the lists and dicts of an
        EVENT or ACK.
    @ivar id: the ack id, or L{None}.
    @ivar query: revision 4 only: the query string a client put in a
        CONNECT's namespace (C{0/nsp?token=x,}), without the C{"?"}.
    """

    type: int
    namespace: str = "/"
    data: object = None
    id: "int | None" = None
    query: "str | None" = None

    def __repr__(self) -> str:
        ptype = self.type
        name = TYPE_NAMES[ptype] if ptype.__class__ is int and 0 <= ptype < 7 else repr(ptype)
        parts = [name, repr(self.namespace)]
        if self.data is not None:
            parts.append(f"data={self.data!r}")
        if self.id is not None:
            parts.append(f"id={self.id!r}")
        if self.query is not None:
            parts.append(f"query={self.query!r}")
        return f"Packet({', '.join(parts)})"


def hasBinary(data) -> bool:
    """
    Whether C{data} is, or holds anywhere in its lists, tuples and dict
    values, L{bytes}, L{bytearray} or L{memoryview}.
    """
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, _BINARY_TYPES):
            return True
        if isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return False


def _isNumber(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dataProblem(ptype: int, hasData: bool, data, ackId, protocol: int) -> "str | None":
    """
    What is wrong with a packet's data and ack id for its type, or L{None};
    the rules both the encoder and the decoder apply.
    """
    if ptype == EVENT or ptype == BINARY_EVENT:
        if not hasData or not isinstance(data, (list, tuple)) or not data:
            return "an EVENT's data must be a non-empty array"
        name = data[0]
        if isinstance(name, str):
            if protocol == 5 and name in RESERVED_EVENTS:
                return f"the event name {name!r} is reserved"
        elif not _isNumber(name):
            return "an event name must be a string or a number"
        return None
    if ptype == ACK or ptype == BINARY_ACK:
        if not hasData or not isinstance(data, (list, tuple)):
            return "an ACK's data must be an array"
        if ackId is None:
            return "an ACK needs an ack id"
        return None
    if ackId is not None:
        return f"a {TYPE_NAMES[ptype]} packet carries no ack id"
    if ptype == CONNECT:
        if hasData:
            if protocol == 4:
                return "a protocol 4 CONNECT carries no data"
            if not isinstance(data, dict):
                return "a CONNECT's data must be an object"
    elif ptype == DISCONNECT:
        if hasData:
            return "a DISCONNECT carries no data"
    elif protocol == 5 and (not hasData or not isinstance(data, (dict, str))):
        return "a CONNECT_ERROR's data must be an object or a string"
    return None


# encoding

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _dumps(data, attachments: list) -> str:
    """
    C{data} as compact JSON, each binary value replaced by a placeholder and
    appended to C{attachments} (depth first, in list and dict order).
    """

    def placeholder(value):
        if isinstance(value, _BINARY_TYPES):
            attachments.append(value if value.__class__ is bytes else bytes(value))
            return {"_placeholder": True, "num": len(attachments) - 1}
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")

    encoder = json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=placeholder
    )
    return encoder.encode(data)


def encodePacket(packet: Packet, protocol: int = 5) -> list:
    """
    Write a packet as engine.io messages.

    An EVENT or ACK whose data holds L{bytes}, L{bytearray} or
    L{memoryview} anywhere is sent as BINARY_EVENT or BINARY_ACK, each binary
    value replaced by a C{{"_placeholder":true,"num":N}} (depth first, in
    list order and dict insertion order); a BINARY_EVENT or BINARY_ACK
    without any is sent as a plain EVENT or ACK.

    @param protocol: the socket.io protocol revision, 5 or 4.
    @return: C{[text, *attachments]}: the text message, then the
        attachments as L{bytes}, in order.
    @raise UsageError: the packet cannot be written: an unknown type, data of
        the wrong shape for its type, data that is not JSON (NaN, Infinity,
        sets, binary outside an EVENT or ACK...), a namespace not starting
        with C{"/"} or holding a C{","}, an ack id that is not an integer in
        C{[0, 2**53 - 1]}, a query outside a protocol 4 CONNECT.
    """
    if protocol != 5 and protocol != 4:
        raise UsageError(f"unknown socket.io protocol revision {protocol!r}")
    ptype = packet.type
    data = packet.data
    ackId = packet.id
    if ptype.__class__ is not int or not 0 <= ptype <= 6:
        raise UsageError(f"unknown socket.io packet type {ptype!r}")
    problem = _dataProblem(ptype, data is not None, data, ackId, protocol)
    if problem is not None:
        raise UsageError(f"cannot encode {packet!r}: {problem}")
    if ackId is not None and (ackId.__class__ is not int or not 0 <= ackId <= MAX_ACK_ID):
        raise UsageError(f"an ack id must be an integer from 0 to 2**53 - 1, not {ackId!r}")

    attachments = None
    if data is None:
        payload = ""
    else:
        if protocol == 4 and ptype == CONNECT_ERROR and _isNumber(data):
            raise UsageError("a protocol 4 CONNECT_ERROR cannot carry a number: it would read as an ack id")
        try:
            try:
                payload = _ENCODER.encode(data)
            except TypeError:
                if ptype not in _BINARY_TYPE:
                    raise
                attachments = []
                payload = _dumps(data, attachments)
        except (TypeError, ValueError) as e:
            raise UsageError(f"cannot write the data of {TYPE_NAMES[ptype]} as JSON: {e}") from None
        except RecursionError:
            raise UsageError(f"the data of {TYPE_NAMES[ptype]} is nested too deeply") from None

    if attachments:
        head = f"{_BINARY_TYPE[ptype]}{len(attachments)}-"
    else:
        head = _PLAIN_TYPE[ptype]
    namespace = packet.namespace
    query = packet.query
    if query is not None:
        if protocol != 4 or ptype != CONNECT:
            raise UsageError("a query can only be sent in a protocol 4 CONNECT")
        if query.__class__ is not str or "," in query:
            raise UsageError(f"a query must be a string without a ',', not {query!r}")
    if namespace != "/" or query is not None:
        if namespace.__class__ is not str or not namespace.startswith("/") or "," in namespace:
            raise UsageError(
                f"a namespace must be a string starting with '/' and without a ',', not {namespace!r}"
            )
        if protocol == 4 and ptype == CONNECT and "?" in namespace:
            raise UsageError(
                f"a protocol 4 CONNECT's namespace cannot hold a '?' (use the query): {namespace!r}"
            )
        head += namespace + ("," if query is None else f"?{query},")
    if ackId is not None:
        head += str(ackId)
    if attachments:
        return [head + payload, *attachments]
    return [head + payload]


# decoding


def _rejectConstant(name: str):
    raise SocketIOProtocolError(f"{name} is not JSON")


def _parseFloat(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise SocketIOProtocolError(f"the number {text[:40]} is too large")
    return value


_DECODER = json.JSONDecoder(parse_constant=_rejectConstant, parse_float=_parseFloat)


def _findPlaceholders(data: list, count: int) -> list:
    """
    Where the placeholders of a binary packet's data are, as C{(container,
    key, num)}, checking each refers to one of the C{count} attachments.

    @raise SocketIOProtocolError: a malformed placeholder.
    """
    found = []
    stack = [data]
    while stack:
        node = stack.pop()
        for key, value in enumerate(node) if node.__class__ is list else node.items():
            cls = value.__class__
            if cls is dict:
                if "_placeholder" not in value:
                    stack.append(value)
                    continue
                if value["_placeholder"] is not True:
                    raise SocketIOProtocolError("a placeholder's _placeholder must be true")
                num = value.get("num")
                if num.__class__ is not int or not 0 <= num < count:
                    raise SocketIOProtocolError(
                        f"a placeholder's num must be an integer from 0 to {count - 1}, not {num!r}"
                    )
                found.append((node, key, num))
            elif cls is list:
                stack.append(value)
    return found


class PacketDecoder:
    """
    Reads the packets of one connection from its engine.io messages: text
    messages are packets, binary messages the attachments of the binary
    packet before them.

    @ivar protocol: the socket.io protocol revision, 5 or 4.
    @ivar maxAttachments: the most attachments a binary packet may declare.
    """

    def __init__(self, protocol: int = 5, maxAttachments: int = 10) -> None:
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown socket.io protocol revision {protocol!r}")
        if maxAttachments.__class__ is not int or maxAttachments < 0:
            raise UsageError(f"maxAttachments must be an integer >= 0, not {maxAttachments!r}")
        self.protocol = protocol
        self.maxAttachments = maxAttachments
        self._pending = None
        self._placeholders = None
        self._count = 0
        self._attachments = []

    @property
    def waitingForAttachments(self) -> bool:
        """
        Whether a binary packet still waits for some of its attachments.
        """
        return self._pending is not None

    def reset(self) -> None:
        """
        Forget a binary packet still waiting for attachments.
        """
        self._pending = None
        self._placeholders = None
        self._count = 0
        self._attachments = []

    def receive(self, message: "str | bytes") -> "Packet | None":
        """
        Read one engine.io message.

        @param message: a text message (L{str}) or a binary one (L{bytes},
            L{bytearray} or L{memoryview}).
        @return: the packet the message completes, or L{None} while a binary
            packet still waits for attachments.
        @raise SocketIOProtocolError: the message is malformed, or a binary
            one came unexpected, or a text one while attachments were
            awaited; the decoder is reset and can be used again.
        """
        try:
            if isinstance(message, str):
                if self._pending is not None:
                    missing = self._count - len(self._attachments)
                    raise SocketIOProtocolError(
                        f"a text packet arrived while {missing} attachments were awaited"
                    )
                return self._decodeText(message)
            if isinstance(message, _BINARY_TYPES):
                return self._takeAttachment(message)
        except SocketIOProtocolError:
            self.reset()
            raise
        raise UsageError(f"an engine.io message is str or bytes, not {message.__class__.__name__}")

    def _takeAttachment(self, message) -> "Packet | None":
        if self._pending is None:
            raise SocketIOProtocolError(
                "a binary attachment arrived when no binary packet waited for one"
            )
        attachments = self._attachments
        attachments.append(message if message.__class__ is bytes else bytes(message))
        if len(attachments) < self._count:
            return None
        packet = self._pending
        for node, key, num in self._placeholders:
            node[key] = attachments[num]
        self.reset()
        return packet

    def _decodeText(self, text: str) -> "Packet | None":
        n = len(text)
        if not n:
            raise SocketIOProtocolError("empty packet")
        ptype = _TYPE_CHARS.find(text[0])
        if ptype < 0:
            raise SocketIOProtocolError(f"unknown packet type {text[:1]!r}")
        i = 1
        count = 0
        if ptype >= BINARY_EVENT:
            dash = text.find("-", 1, 2 + _MAX_COUNT_DIGITS)
            digits = text[1:dash] if dash > 0 else ""
            if not digits or not (digits.isascii() and digits.isdigit()):
                raise SocketIOProtocolError("a binary packet without a valid attachment count")
            count = int(digits)
            if count < 1:
                raise SocketIOProtocolError("a binary packet needs at least one attachment")
            if count > self.maxAttachments:
                raise SocketIOProtocolError(f"too many attachments: {count} > {self.maxAttachments}")
            i = dash + 1

        namespace = "/"
        query = None
        if i < n and text[i] == "/":
            comma = text.find(",", i)
            if comma < 0:
                namespace = text[i:]
                i = n
            else:
                namespace = text[i:comma]
                i = comma + 1
            if ptype == CONNECT and self.protocol == 4:
                mark = namespace.find("?")
                if mark >= 0:
                    query = namespace[mark + 1 :]
                    namespace = namespace[:mark]

        ackId = None
        if i < n and "0" <= text[i] <= "9":
            j = i + 1
            while j < n and "0" <= text[j] <= "9" and j - i <= _MAX_ACK_DIGITS:
                j += 1
            if j - i > _MAX_ACK_DIGITS:
                raise SocketIOProtocolError("the ack id is too long")
            ackId = int(text[i:j])
            if ackId > MAX_ACK_ID:
                raise SocketIOProtocolError("the ack id is too large")
            i = j

        data = None
        if i < n:
            try:
                data, end = _DECODER.raw_decode(text, i)
            except ValueError as e:
                raise SocketIOProtocolError(f"invalid JSON data: {e}") from None
            except RecursionError:
                raise SocketIOProtocolError("the JSON data is nested too deeply") from None
            if end != n:
                raise SocketIOProtocolError("garbage after the JSON data")
        problem = _dataProblem(ptype, i < n, data, ackId, self.protocol)
        if problem is not None:
            raise SocketIOProtocolError(problem)

        if ptype < BINARY_EVENT:
            return Packet(ptype, namespace, data, ackId, query)
        self._placeholders = _findPlaceholders(data, count)
        self._count = count
        self._pending = Packet(EVENT if ptype == BINARY_EVENT else ACK, namespace, data, ackId)
        return None
