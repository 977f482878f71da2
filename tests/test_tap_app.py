"""
The service's default app and its mounts: the demo page at C{/}, the echo
and the chat feed over WebSocket, socket.io's chat, its SSE channel (a
chat message reaching both feeds through the site's L{App}), C{--no-demo},
C{--static} folders and C{--socketio PATH}.
"""

import json
from typing import NamedTuple

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.testing import MemoryReactorClock
from twisted.python import usage
from twisted.web.resource import getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from rtproto import tap
from rtproto.plugins.chat import ChatEventsHandler, ChatFeedHandler, ChatHandler
from rtproto.plugins.echo import EchoHandler
from rtproto.tx._static import DemoRoot, Index
from rtproto.tx.app import App
from rtproto.websocket import TextMessage
from tests.tx.helpers import FakeClient, upgradeRequest
from tests.tx.sio_helpers import Peer
from tests.tx.sse_helpers import SSEClient


def parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def build(*args):
    """
    Parse C{args} and make the service; return C{(site, reactor)}.
    """
    reactor = MemoryReactorClock()
    service = tap.makeService(parse(*args), reactor)
    site = next(c for c in service if isinstance(c, StreamServerEndpointService)).factory
    return site, reactor


class Page(NamedTuple):
    status: int
    contentType: bytes
    body: bytes


def get(site, target: bytes) -> Page:
    """
    Render C{GET target} of C{site}'s resource tree (files are produced
    by a pull producer, which L{DummyRequest} runs to the end).
    """
    request = DummyRequest(target.lstrip(b"/").split(b"/"))
    request.uri = request.path = target
    resource = getChildForRequest(site.resource, request)
    body = resource.render(request)
    if isinstance(body, bytes):
        request.write(body)
    return Page(
        request.responseCode or 200,
        request.responseHeaders.getRawHeaders(b"content-type", [b""])[0],
        b"".join(request.written),
    )


class TestDefaultApp:
    def test_mounts(self):
        """
        The demo page, C{/ws} echo, C{/feed}, socket.io's C{/chat} and
        C{/events}, all in the site's app.
        """
        options = parse()
        assert options["handlers"] == [("/ws", EchoHandler), ("/feed", ChatFeedHandler)]
        assert options["namespaceHandlers"] == [("/chat", ChatHandler)]
        assert options["sseHandlers"] == [("/events", ChatEventsHandler)]
        site, _ = build()
        assert isinstance(site.resource, DemoRoot)
        app = site.app
        assert isinstance(app, App)
        assert set(app.websocket) == {"/ws", "/feed"}
        assert set(app.socketio) == {"/socket.io/"}
        assert set(app.sse) == {"/events"}
        assert app.socketio["/socket.io/"].app is app
        assert app.sse["/events"].app is app
        assert site.connections.app is app

    def test_demoPage(self):
        """
        C{/} is the page; its scripts are served beside it; nothing else of
        the package is.
        """
        site, _ = build()
        page = get(site, b"/")
        assert page.status == 200
        assert page.contentType.startswith(b"text/html")
        assert b"<html" in page.body.lower()
        for name in (b"demo.js", b"rtsio.js", b"demo.css"):
            assert get(site, b"/" + name).status == 200, name
        for target in (b"/__init__.py", b"/nothing", b"/demo.js/x", b"/../setup.cfg"):
            assert get(site, target).status == 404, target

    def test_chatReachesFeeds(self):
        """
        A chat message goes to the room, to the SSE channel C{chat} (kept
        for replay) and to every C{/feed} WebSocket.
        """
        site, reactor = build()
        feed = FakeClient(site, reactor)
        feed.send(upgradeRequest("/feed"))
        assert feed.response()[0].startswith(b"HTTP/1.1 101")
        stream = SSEClient(site, 43001)
        stream.get(b"/events")
        server = site.app.socketio["/socket.io/"]
        peer = Peer(server)
        peer.connect("/chat")
        peer.emit("message", "hello \N{SNOWMAN}", namespace="/chat", ackId=1)
        [ack] = [p for p in peer.received() if p.type == 3]
        assert ack.data == [True]
        [event] = stream.events()
        assert event.type == "message"
        message = json.loads(event.data)
        assert message["text"] == "hello \N{SNOWMAN}" and message["room"] == "lobby"
        assert message["from"].startswith("guest-")
        assert len(site.app.sse["/events"].history) == 1
        _, rest = feed.response()
        [frame] = feed.frames(rest)
        assert isinstance(frame, TextMessage)
        assert json.loads(frame.data) == message

    def test_refusedMessageNotPublished(self):
        site, _ = build()
        peer = Peer(site.app.socketio["/socket.io/"])
        peer.connect("/chat")
        peer.emit("message", "", namespace="/chat", ackId=1)
        assert len(site.app.sse["/events"].history) == 0

    def test_feedStopsListening(self):
        """
        A closed feed connection no longer listens to the topic.
        """
        site, reactor = build()
        feed = FakeClient(site, reactor)
        feed.send(upgradeRequest("/feed"))
        assert site.app.listeners("chat") == 2  # the SSE relay and the feed
        feed.transport.protocol.connectionLost(None)
        assert site.app.listeners("chat") == 1

    def test_stopEndsRelay(self):
        """
        A graceful stop stops the SSE relay.
        """
        reactor = MemoryReactorClock()
        service = tap.makeService(parse(), reactor)
        site = next(c for c in service if isinstance(c, StreamServerEndpointService)).factory
        service.startService()
        assert site.app.listeners("chat") == 1
        service.stopService()
        assert site.app.listeners("chat") == 0


class TestNoDemo:
    def test_nothingByDefault(self):
        options = parse("--no-demo")
        assert options["handlers"] == []
        assert options["namespaceHandlers"] == []
        assert options["sseHandlers"] == []
        site, _ = build("--no-demo")
        assert isinstance(site.resource, Index)
        assert get(site, b"/ws").status == 404

    def test_onlyNamed(self):
        options = parse("--no-demo", "--ws", "/x=echo")
        assert options["handlers"] == [("/x", EchoHandler)]
        assert options["namespaceHandlers"] == [] and options["sseHandlers"] == []

    def test_otherMountsKeepDemoPage(self):
        """
        Without C{--no-demo}, naming a mount keeps the page; the feed comes
        only with the default chat.
        """
        options = parse("--namespace", "/x=chat")
        assert options["handlers"] == [("/ws", EchoHandler)]
        site, _ = build("--namespace", "/x=chat")
        assert isinstance(site.resource, DemoRoot)


class TestStatic:
    def test_folder(self, tmp_path):
        (tmp_path / "a.txt").write_text("hello")
        (tmp_path / "sub").mkdir()
        site, _ = build("--static", f"/assets={tmp_path}")
        response = get(site, b"/assets/a.txt")
        assert response.status == 200 and response.body == b"hello"
        assert get(site, b"/assets/missing").status == 404
        assert get(site, b"/assets/sub/").status == 404, "no directory listings"

    def test_root(self, tmp_path):
        """
        C{--static /=DIR} replaces the demo page; the mounts stay.
        """
        (tmp_path / "index.html").write_text("<p>mine</p>")
        site, _ = build("--static", f"/={tmp_path}")
        assert get(site, b"/").body == b"<p>mine</p>"
        assert site.resource.children[b"ws"] is site.app.websocket["/ws"]

    @pytest.mark.parametrize("arg", ["assets", "/assets", "/assets="])
    def test_badMount(self, arg):
        with pytest.raises(usage.UsageError, match="--static takes PATH=DIR"):
            parse("--static", arg)

    def test_notAFolder(self, tmp_path):
        with pytest.raises(usage.UsageError, match="not a readable directory"):
            build("--static", f"/x={tmp_path / 'absent'}")

    def test_overlap(self, tmp_path):
        with pytest.raises(usage.UsageError, match="/ws"):
            build("--static", f"/ws={tmp_path}")


def test_socketioPath():
    """
    C{--socketio PATH} moves socket.io.
    """
    site, _ = build("--socketio", "/rt/")
    assert set(site.app.socketio) == {"/rt/"}
    assert b"rt" in site.resource.children and b"socket.io" not in site.resource.children
