"""
The twistd plugin's Server-Sent Events options: C{--sse PATH[=HANDLER]},
the C{--sse-*} settings, the default app (the chat's events at
C{/events}), the usage errors for bad values, and the graceful stop
closing event streams first.
"""

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.defer import succeed
from twisted.internet.testing import MemoryReactor, MemoryReactorClock
from twisted.python import usage

from rtproto import tap
from rtproto.handlers import availablePlugins, findHandler
from rtproto.plugins.chat import ChatEventsHandler
from rtproto.plugins.ticker import TickerHandler
from rtproto.sse import SSEHandler, SSEOptions
from rtproto.tx.sse import EventSourceResource


class CustomHandler(SSEHandler):
    """
    A handler given by dotted path.
    """

    defaultChannels = ("custom",)


def parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def build(*args, reactor=None):
    """
    Parse C{args} and make the service; return C{(service, site)}.
    """
    service = tap.makeService(parse(*args), reactor if reactor is not None else MemoryReactorClock())
    site = next(c for c in service if isinstance(c, StreamServerEndpointService)).factory
    return service, site


class TestDefaultApp:
    """
    Without C{--sse}, the chat's events are at C{/events}, unless the app
    is an engine.io or socket.io one or C{--no-demo} is given.
    """

    def test_chatEventsAtEvents(self):
        options = parse()
        assert options["sseHandlers"] == [("/events", ChatEventsHandler)]
        _, site = build()
        [resource] = site.sse
        assert isinstance(resource, EventSourceResource)
        assert site.resource.children[b"events"] is resource
        assert resource.handlerFactory is ChatEventsHandler
        assert resource.options == options["sseOptions"] == SSEOptions()
        # the relay of the app's chat topic, stopped by a graceful stop
        assert len(resource.onClose) == 1

    def test_withOtherMounts(self):
        """
        C{--ws} mounts do not turn the default off.
        """
        assert parse("--ws", "/x=echo")["sseHandlers"] == [("/events", ChatEventsHandler)]

    @pytest.mark.parametrize(
        "args",
        [
            ("--engineio", "/engine.io/=echo"),
            ("--namespace", "/chat=chat"),
            ("--socketio-app", "tests.test_tap_socketio.configure"),
            ("--no-demo",),
        ],
    )
    def test_noDefault(self, args):
        assert parse(*args)["sseHandlers"] == []
        _, site = build(*args)
        assert site.sse == []
        assert b"events" not in site.resource.children

    def test_tickerPluginListed(self):
        assert "ticker" in [p.name for p in availablePlugins("sse")]
        assert findHandler("ticker", "sse") is TickerHandler
        assert "ticker" not in [p.name for p in availablePlugins("websocket")]

    def test_indexListsMount(self):
        """
        Without the demo page, the site's index names the SSE mount.
        """
        from tests.tx.sse_helpers import SSEClient

        _, site = build("--no-demo", "--sse", "/events")
        client = SSEClient(site)
        client.get(b"/")
        assert b"SSE: /events" in client.response().body


class TestMounts:
    def test_pathWithoutHandler(self):
        """
        C{--sse /x}: the base L{SSEHandler}, and no default mount.
        """
        options = parse("--sse", "/x")
        assert options["sseHandlers"] == [("/x", SSEHandler)]
        _, site = build("--sse", "/x")
        [resource] = site.sse
        assert resource.handlerFactory is SSEHandler
        assert site.resource.children[b"x"] is resource
        assert resource.onClose == []
        assert b"events" not in site.resource.children

    def test_several(self):
        args = (
            "--sse", "/a=ticker",
            "--sse", "/b/c=tests.test_tap_sse.CustomHandler",
            "--sse", "/d",
        )
        options = parse(*args)
        assert options["sseHandlers"] == [("/a", TickerHandler), ("/b/c", CustomHandler), ("/d", SSEHandler)]
        _, site = build(*args)
        assert [r.handlerFactory for r in site.sse] == [TickerHandler, CustomHandler, SSEHandler]
        assert site.resource.children[b"b"].children[b"c"] is site.sse[1]
        assert len({id(r) for r in site.sse}) == 3
        assert len({id(r.history) for r in site.sse}) == 3

    def test_withEngineIO(self):
        """
        An explicit C{--sse} mount is there whatever the app.
        """
        options = parse("--engineio", "/engine.io/=echo", "--sse", "/s")
        assert options["sseHandlers"] == [("/s", SSEHandler)]

    def test_mountClash(self):
        with pytest.raises(usage.UsageError, match="two handlers mounted"):
            build("--sse", "/ws")

    def test_badMountPath(self):
        with pytest.raises(usage.UsageError, match="must name a resource"):
            build("--sse", "/")


class TestSettings:
    def test_defaults(self):
        options = parse()
        assert options["sseOptions"] == SSEOptions(
            keepAlive=15.0,
            retry=3000,
            historyEvents=1000,
            historyBytes=1 << 20,
            bufferSize=256 * 1024,
            publishToken=None,
            corsOrigins=(),
            corsCredentials=False,
        )

    def test_everySetting(self):
        args = (
            "--sse-keepalive", "2.5",
            "--sse-retry", "0",
            "--sse-history", "0",
            "--sse-history-bytes", "4096",
            "--sse-buffer", "1",
            "--sse-publish-token", "tok",
            "--sse-cors-origins", " https://a.example , https://b.example,,",
            "--sse-cors-credentials",
        )
        options = parse(*args)
        expected = SSEOptions(
            keepAlive=2.5,
            retry=0,
            historyEvents=0,
            historyBytes=4096,
            bufferSize=1,
            publishToken="tok",
            corsOrigins=("https://a.example", "https://b.example"),
            corsCredentials=True,
        )
        assert options["sseOptions"] == expected
        _, site = build(*args)
        [resource] = site.sse
        assert resource.options == expected
        assert (resource.history.maxEvents, resource.history.maxBytes) == (0, 4096)

    def test_emptyTokenIsOff(self):
        assert parse("--sse-publish-token", "")["sseOptions"].publishToken is None

    def test_anyOrigin(self):
        assert parse("--sse-cors-origins", "*")["sseOptions"].corsOrigins == ("*",)

    @pytest.mark.parametrize(
        "args, message",
        [
            (["--sse", "events"], "--sse takes PATH or PATH=HANDLER"),
            (["--sse", "/x="], "--sse takes PATH or PATH=HANDLER"),
            (["--sse", "=ticker"], "--sse takes PATH or PATH=HANDLER"),
            (["--sse", "/x=nope"], "no sse handler named 'nope'"),
            (["--sse", "/x=echo"], "no sse handler named 'echo'"),
            (["--sse", "/x=no.such.module.Handler"], "cannot import handler"),
            (["--sse", "/x=tests.test_tap_sse.notCallable"], "is not callable"),
            (["--sse-keepalive", "0"], "--sse-keepalive"),
            (["--sse-keepalive", "-1"], "--sse-keepalive"),
            (["--sse-keepalive", "soon"], "--sse-keepalive"),
            (["--sse-retry", "-1"], "--sse-retry"),
            (["--sse-retry", "1.5"], "--sse-retry"),
            (["--sse-history", "-1"], "--sse-history"),
            (["--sse-history", "many"], "--sse-history"),
            (["--sse-history-bytes", "-5"], "--sse-history-bytes"),
            (["--sse-history-bytes", "1e3"], "--sse-history-bytes"),
            (["--sse-buffer", "0"], "--sse-buffer"),
            (["--sse-buffer", "-1"], "--sse-buffer"),
            (["--sse-buffer", "big"], "--sse-buffer"),
        ],
    )
    def test_usageErrors(self, args, message):
        with pytest.raises(usage.UsageError) as e:
            parse(*args)
        assert message in str(e.value)

    def test_help(self):
        """
        Every SSE option is in C{--help}.
        """
        text = str(tap.Options())
        for name in (
            "--sse=",
            "--sse-keepalive",
            "--sse-retry",
            "--sse-history=",
            "--sse-history-bytes",
            "--sse-buffer",
            "--sse-publish-token",
            "--sse-cors-origins",
            "--sse-cors-credentials",
        ):
            assert name in text, name


notCallable = 42


class Recorder:
    """
    Stands for a site's resources and registry in L{GracefulStop}: records
    which was closed when.
    """

    def __init__(self, log, name):
        self.log = log
        self.name = name

    def closeAll(self, *args):
        self.log.append(self.name)
        return succeed(None)


class TestGracefulStop:
    def test_order(self):
        """
        Event streams are closed first, then socket.io, then engine.io,
        then WebSockets (whose closing the stop waits for).
        """
        log: list = []

        class Site:
            sse = [Recorder(log, "sse1"), Recorder(log, "sse2")]
            socketio = [Recorder(log, "socketio")]
            engineio = [Recorder(log, "engineio")]
            connections = Recorder(log, "websockets")

        d = tap.GracefulStop(Site(), MemoryReactorClock(), 1.0).stopService()
        assert log == ["sse1", "sse2", "socketio", "engineio", "websockets"]
        assert self.successResult(d) is None

    @staticmethod
    def successResult(d):
        results: list = []
        d.addBoth(results.append)
        assert len(results) == 1
        return results[0]

    def test_closesStreams(self):
        """
        The real service: stopping it ends the open streams (the ticker's
        subscriber is told) and stops the ticker; later GETs get the empty
        stream.
        """
        from tests.tx.sse_helpers import subscribe

        reactor = MemoryReactorClock()
        service, site = build("--listen", "tcp:9000", "--sse", "/events=ticker", reactor=reactor)
        [resource] = site.sse
        client = subscribe(site)
        reactor.advance(1)
        assert [e.type for e in client.events()] == ["tick"]
        [stop] = [c for c in service if isinstance(c, tap.GracefulStop)]
        stop.stopService()
        assert client.response().complete
        assert resource.subscribers == set()
        client.lose()
        assert reactor.getDelayedCalls() == []
        late = subscribe(site, port=2)
        assert (late.response().status, late.response().body) == (200, b"retry: 3000\n\n")

    def test_buildSchedulesNothing(self):
        """
        Making the service starts no timer (the ticker waits for a
        listener), also on a reactor without a clock.
        """
        reactor = MemoryReactorClock()
        build("--sse", "/events=ticker", reactor=reactor)
        assert reactor.getDelayedCalls() == []
        build("--sse", "/events=ticker", reactor=MemoryReactor())
