"""
What the fakes of L{rtproto.testing} share: L{resultOf}, and turning the
friendly arguments of a fake request (L{str} or L{bytes}, a L{dict} of
headers) into what the interfaces promise.
"""

from urllib.parse import urlencode

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers

from rtproto.tx.app import App

#: The default C{app} of a fake: a new L{App} for each (pass C{app=None}
#: to see what a handler does outside a site).
NEW_APP = object()


def appOf(app):
    """
    A new L{App} for L{NEW_APP}, else C{app} (which may be L{None}).
    """
    return App() if app is NEW_APP else app


def resultOf(d):
    """
    The result of a L{Deferred} that has already fired, as
    C{SynchronousTestCase.successResultOf} gives it; a value that is not a
    L{Deferred} is returned as it is.

    @raise Exception: the exception the L{Deferred} failed with (so
        C{pytest.raises(ConnectionDeny)} works).
    @raise AssertionError: it has not fired yet (fire what it waits on
        first).
    """
    if not isinstance(d, Deferred):
        return d
    results = []

    def keep(result):
        results.append(result)
        return result

    d.addBoth(keep)
    if not results:
        raise AssertionError(f"{d!r} has not fired yet")
    result = results[0]
    if isinstance(result, Failure):
        # Handled here: the exception is raised to the caller instead.
        d.addErrback(lambda _: None)
        result.raiseException()
    return result


def toBytes(value) -> bytes:
    """
    C{value} as L{bytes} (L{str} is encoded in UTF-8).
    """
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def makeArgs(args) -> dict:
    """
    Query arguments as C{twisted.web} has them (L{bytes} to a L{list} of
    L{bytes}) from a L{dict} whose keys and values may be L{str}, and whose
    values may be single values or lists.
    """
    result: dict = {}
    for key, values in (args or {}).items():
        if isinstance(values, (str, bytes)):
            values = [values]
        result[toBytes(key)] = [toBytes(v) for v in values]
    return result


def makeHeaders(headers) -> Headers:
    """
    A L{Headers} from a L{Headers} or a L{dict} (name to a value or a list
    of values, L{str} or L{bytes}).
    """
    if isinstance(headers, Headers):
        return headers
    result = Headers()
    for name, values in (headers or {}).items():
        if isinstance(values, (str, bytes)):
            values = [values]
        result.setRawHeaders(toBytes(name), [toBytes(v) for v in values])
    return result


def makeUri(path: bytes, args: dict) -> bytes:
    """
    The request URI of C{path} with C{args}.
    """
    pairs = [(k, v) for k, values in args.items() for v in values]
    return path + (b"?" + urlencode(pairs).encode("ascii") if pairs else b"")


def fakePeer(port: int = 40000) -> IPv4Address:
    """
    The address fakes use for their peer: 127.0.0.1, TCP.
    """
    return IPv4Address("TCP", "127.0.0.1", port)
