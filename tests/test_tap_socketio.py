"""
The twistd plugin's socket.io options: C{--namespace} (C{/name} or
C{re:REGEX}), C{--socketio-path}, C{--socketio-app}, the C{--sio-*}
settings, the default app (the C{chat} plugin at C{/chat}), and the usage
errors for bad values.
"""

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.task import LoopingCall
from twisted.internet.testing import MemoryReactor, MemoryReactorClock
from twisted.python import usage

from rtproto import tap
from rtproto.handlers import availablePlugins, findHandler
from rtproto.plugins.chat import ChatEventsHandler, ChatFeedHandler, ChatHandler
from rtproto.plugins.echo import EchoHandler
from rtproto.socketio import NamespaceHandler
from rtproto.tx.socketio import SocketIOServer

configured: list = []


def configure(server):
    """
    A C{--socketio-app}: adds C{/app} and remembers the server.
    """
    configured.append(server)
    server.of("/app", NamespaceHandler)


notCallable = 42


def parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def build(*args, reactor=None):
    """
    Parse C{args}, make the service; return C{(site, socket.io server or None)}.
    """
    service = tap.makeService(parse(*args), reactor if reactor is not None else MemoryReactor())
    site = next(c for c in service if isinstance(c, StreamServerEndpointService)).factory
    servers = site.socketio
    assert len(servers) <= 1
    return site, (servers[0] if servers else None)


class TestDefaultApp:
    def test_chatAtChat(self):
        options = parse()
        assert options["namespaceHandlers"] == [("/chat", ChatHandler)]
        assert options["socketioSetup"] is None
        site, server = build()
        assert isinstance(server, SocketIOServer)
        assert server.of("/chat").handlerFactory is ChatHandler
        assert set(server.namespaces) == {"/", "/chat"}
        resource = site.resource.children[b"socket.io"]
        assert resource is server.resource()
        assert site.fastRoutes[b"/socket.io/"] is resource
        assert resource in site.engineio
        # the WebSocket echo default is still there, with the chat's feed
        assert options["handlers"] == [("/ws", EchoHandler), ("/feed", ChatFeedHandler)]

    def test_noDefaultWithEngineIO(self):
        options = parse("--engineio", "/engine.io/=echo")
        assert options["namespaceHandlers"] == []
        site, server = build("--engineio", "/engine.io/=echo")
        assert server is None and site.socketio == []
        assert b"socket.io" not in site.resource.children

    def test_noDefaultWithApp(self):
        configured.clear()
        options = parse("--socketio-app", "tests.test_tap_socketio.configure")
        assert options["namespaceHandlers"] == []
        _site, server = build("--socketio-app", "tests.test_tap_socketio.configure")
        assert configured == [server]
        assert set(server.namespaces) == {"/", "/app"}

    def test_chatPluginListed(self):
        assert "chat" in [p.name for p in availablePlugins("socketio")]
        assert findHandler("chat", "socketio") is ChatHandler
        # the chat's read-only feeds have the same name on the other transports
        assert findHandler("chat", "websocket") is ChatFeedHandler
        assert findHandler("chat", "sse") is ChatEventsHandler


class TestNamespaces:
    def test_staticAndDynamic(self):
        args = (
            "--namespace", "/a=chat",
            "--namespace", "/b=rtproto.socketio.NamespaceHandler",
            "--namespace", r"re:^/room-\d+$=chat",
        )
        options = parse(*args)
        assert options["namespaceHandlers"] == [
            ("/a", ChatHandler),
            ("/b", NamespaceHandler),
            (r"re:^/room-\d+$", ChatHandler),
        ]
        _site, server = build(*args)
        assert server.of("/a").handlerFactory is ChatHandler
        assert server.of("/b").handlerFactory is NamespaceHandler
        assert "/chat" not in server.namespaces, "no default once namespaces are given"
        [dynamic] = server.dynamic
        assert dynamic.handlerFactory is ChatHandler
        assert dynamic.matcher("/room-12", {}) and not dynamic.matcher("/room-x", {})

    def test_regexWithEquals(self):
        """
        The handler is after the last C{=}, so a regular expression may hold one.
        """
        options = parse("--namespace", "re:^/(?=a)a+$=chat")
        assert options["namespaceHandlers"] == [("re:^/(?=a)a+$", ChatHandler)]

    def test_appAndNamespaces(self):
        configured.clear()
        _site, server = build("--namespace", "/x=chat", "--socketio-app", "tests.test_tap_socketio.configure")
        assert set(server.namespaces) == {"/", "/x", "/app"}
        assert configured == [server]

    @pytest.mark.parametrize(
        "value, message",
        [
            ("nonsense", "NSP=HANDLER"),
            ("chat=chat", "NSP=HANDLER"),
            ("/x=", "NSP=HANDLER"),
            ("=chat", "NSP=HANDLER"),
            ("/x=nope", "no socketio handler named 'nope'"),
            ("/x=echo", "no socketio handler named 'echo'"),
            ("/x=no.such.Handler", "cannot import handler"),
        ],
    )
    def test_usageErrors(self, value, message):
        with pytest.raises(usage.UsageError, match=message):
            parse("--namespace", value)

    def test_badRegex(self):
        with pytest.raises(usage.UsageError, match="re:\\(unclosed.*not a regular expression"):
            parse("--namespace", "re:(unclosed=chat")


class TestApp:
    @pytest.mark.parametrize(
        "value, message",
        [
            ("tests.test_tap_socketio.nothingHere", "cannot import socket.io app"),
            ("no_such_module_at_all.setup", "cannot import socket.io app"),
            ("tests.test_tap_socketio.notCallable", "is not callable"),
        ],
    )
    def test_usageErrors(self, value, message):
        with pytest.raises(usage.UsageError, match=message):
            parse("--socketio-app", value)


class TestPath:
    def test_default(self):
        assert parse()["socketio-path"] == "/socket.io/"

    def test_otherPath(self):
        site, server = build("--socketio-path", "/rt/io/")
        assert b"socket.io" not in site.resource.children
        assert site.resource.children[b"rt"].children[b"io"] is server.resource()
        assert site.fastRoutes[b"/rt/io/"] is server.resource()

    def test_badPath(self):
        options = parse("--socketio-path", "socket.io")
        with pytest.raises(usage.UsageError, match="must start with /"):
            tap.makeService(options, MemoryReactor())

    def test_emptyPathIsTheDefault(self):
        site, server = build("--socketio-path", "")
        assert site.fastRoutes[b"/socket.io/"] is server.resource()

    def test_clashWithEngineIO(self):
        options = parse("--engineio", "/socket.io/=echo", "--namespace", "/x=chat")
        with pytest.raises(usage.UsageError):
            tap.makeService(options, MemoryReactor())


class TestSettings:
    def test_defaults(self):
        options = parse()["socketioOptions"]
        assert (options.connectTimeout, options.ackTimeout) == (45.0, 30.0)
        assert options.recovery is False and options.maxDisconnectionDuration == 120.0

    def test_everySetting(self):
        args = (
            "--sio-connect-timeout", "3.5",
            "--sio-ack-timeout", "7",
            "--sio-recovery",
            "--sio-recovery-duration", "40",
            "--eio-ping-interval", "9",
        )
        options = parse(*args)["socketioOptions"]
        assert (options.connectTimeout, options.ackTimeout) == (3.5, 7.0)
        assert options.recovery is True and options.maxDisconnectionDuration == 40.0
        reactor = MemoryReactorClock()
        _site, server = build(*args, reactor=reactor)
        assert server.options == options
        assert server.engineioOptions.pingInterval == 9
        assert server.resource().options.pingInterval == 9
        # recovery's cleanup runs every min(60, duration / 2) seconds
        assert [c.getTime() for c in reactor.getDelayedCalls()] == [20.0]

    def test_noCleanupWithoutRecovery(self):
        reactor = MemoryReactorClock()
        build(reactor=reactor)
        assert reactor.getDelayedCalls() == []

    @pytest.mark.parametrize(
        "option", ["--sio-connect-timeout", "--sio-ack-timeout", "--sio-recovery-duration"]
    )
    @pytest.mark.parametrize("value", ["0", "-1", "soon", ""])
    def test_badValues(self, option, value):
        with pytest.raises(usage.UsageError, match="socket.io options|" + option):
            parse(option, value)

    def test_gracefulStopClosesSocketIO(self):
        reactor = MemoryReactorClock()
        service = tap.makeService(parse("--sio-recovery"), reactor)
        stop = next(c for c in service if isinstance(c, tap.GracefulStop))
        [_server] = stop.site.socketio
        assert len(reactor.getDelayedCalls()) == 1
        assert [type(c.func) for c in reactor.getDelayedCalls()] == [LoopingCall]
        stop.startService()
        stop.stopService()
        assert LoopingCall not in [type(c.func) for c in reactor.getDelayedCalls()]
