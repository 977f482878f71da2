"""
The socket.io mount serves the browser client bundle from C{clientDist}
(L{rtproto.tx.socketio.SocketIOResource}), and the namespaces' adapter is
an L{IAdapter}.
"""

import pytest
from twisted.internet.testing import MemoryReactorClock
from twisted.web.test.requesthelper import DummyRequest
from zope.interface.verify import verifyObject

from rtproto.errors import UsageError
from rtproto.interfaces import IAdapter
from rtproto.socketio import MemoryAdapter, SocketIOOptions
from rtproto.tx.socketio import CLIENT_FILES, SocketIOServer


def bundleServer(tmp_path, **files):
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    server = SocketIOServer(SocketIOOptions(clientDist=str(tmp_path)), reactor=MemoryReactorClock())
    return server.resource()


def get(resource, name: bytes, method: bytes = b"GET", headers=None):
    request = DummyRequest([name])
    request.method = method
    for key, value in (headers or {}).items():
        request.requestHeaders.setRawHeaders(key, [value])
    body = resource.render(request)
    return request, body


def test_servesTheBundle(tmp_path):
    resource = bundleServer(tmp_path, **{"socket.io.min.js": b"/*min*/", "socket.io.js.map": b"{}"})
    request, body = get(resource, b"socket.io.min.js")
    assert body == b"/*min*/"
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"application/javascript; charset=utf-8"]
    assert request.responseHeaders.getRawHeaders(b"content-length") == [b"7"]
    etag = request.responseHeaders.getRawHeaders(b"etag")[0]
    request, body = get(resource, b"socket.io.min.js", headers={b"if-none-match": etag})
    assert request.responseCode == 304 and body == b""
    request, body = get(resource, b"socket.io.min.js", method=b"HEAD")
    assert body == b"" and request.responseHeaders.getRawHeaders(b"content-length") == [b"7"]
    request, body = get(resource, b"socket.io.js.map")
    assert body == b"{}"
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"application/json"]


def test_missingOrUnknownFilesAre404(tmp_path):
    resource = bundleServer(tmp_path, **{"socket.io.min.js": b"x", "other.js": b"secret"})
    for name in (b"socket.io.js", b"other.js", b"..%2fetc"):
        request = DummyRequest([name])
        resource.render(request)
        assert request.responseCode == 404
    assert b"other.js" not in CLIENT_FILES


def test_msgpackBuildNotServed(tmp_path):
    """
    The msgpack build of the client speaks a parser the server does not:
    it is not served, even when the folder has it.
    """
    resource = bundleServer(tmp_path, **{"socket.io.min.js": b"x", "socket.io.msgpack.min.js": b"y"})
    for name in (b"socket.io.msgpack.min.js", b"socket.io.msgpack.min.js.map"):
        request = DummyRequest([name])
        resource.render(request)
        assert request.responseCode == 404


def test_noDistNoBundle():
    resource = SocketIOServer(reactor=MemoryReactorClock()).resource()
    request = DummyRequest([b"socket.io.js"])
    resource.render(request)
    assert request.responseCode == 404


def test_distWithoutTheBundleIsRefused(tmp_path):
    server = SocketIOServer(SocketIOOptions(clientDist=str(tmp_path)), reactor=MemoryReactorClock())
    with pytest.raises(UsageError, match="socket.io-client"):
        server.resource()


def test_memoryAdapterProvidesIAdapter():
    server = SocketIOServer(reactor=MemoryReactorClock())
    adapter = server.of("/").adapter
    assert isinstance(adapter, MemoryAdapter)
    assert verifyObject(IAdapter, adapter)
