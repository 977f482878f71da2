"""
The twistd plugin: option parsing, handler resolution, usage errors and the
service it makes.
"""

import gc

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IServiceMaker
from twisted.internet.testing import MemoryReactor
from twisted.plugin import getPlugins
from twisted.python import usage

from rtproto import tap
from rtproto.handlers import availablePlugins, findHandler
from rtproto.plugins.chat import ChatFeedHandler
from rtproto.plugins.echo import EchoHandler, EngineIOEchoHandler
from rtproto.tx.engineio import EngineIOResource
from rtproto.errors import UsageError


def parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def test_pluginDiscovered():
    """
    twistd finds the rtproto service maker through twisted.plugin.
    """
    makers = {m.tapname: m for m in getPlugins(IServiceMaker)}
    assert makers["rtproto"].module == "rtproto.tap"


def test_defaults():
    options = parse()
    assert options["endpoints"] == ["tcp:8080:backlog=1024"]
    # the echo, and the default chat's WebSocket feed
    assert options["handlers"] == [("/ws", EchoHandler), ("/feed", ChatFeedHandler)]
    ws = options["options"]
    assert ws.maxMessageSize == 1 << 20
    assert ws.compression is True
    assert ws.pingInterval == 20.0


def test_everyOption():
    options = parse(
        "--listen", "tcp:9000:interface=127.0.0.1",
        "--listen", "tcp:9001:backlog=10",
        "--ws", "/a=echo",
        "--ws", "/b/c=rtproto.plugins.echo.EchoHandler",
        "--max-message-size", "0",
        "--max-frame-size", "4096",
        "--ping-interval", "0",
        "--ping-timeout", "5",
        "--open-timeout", "3",
        "--close-timeout", "2",
        "--allowed-origins", "https://a.example, https://*.b.example",
        "--no-compression",
    )
    assert options["endpoints"] == ["tcp:9000:interface=127.0.0.1:backlog=1024", "tcp:9001:backlog=10"]
    assert options["handlers"] == [("/a", EchoHandler), ("/b/c", EchoHandler)]
    ws = options["options"]
    assert (ws.maxMessageSize, ws.maxFrameSize, ws.pingInterval, ws.pingTimeout) == (0, 4096, 0, 5)
    assert (ws.openTimeout, ws.closeTimeout) == (3, 2)
    assert ws.allowedOrigins == ("https://a.example", "https://*.b.example")
    assert ws.compression is False


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ws", "/x=nope"], "no websocket handler named 'nope'"),
        (["--ws", "/x=no.such.module.Handler"], "cannot import handler"),
        (["--ws", "nonsense"], "PATH=HANDLER"),
        (["--max-message-size", "-1"], "max-message-size"),
        (["--ping-interval", "soon"], "ping-interval"),
        (["--compression", "--no-compression"], "exclude each other"),
        (["--engineio", "/e=nope"], "no engineio handler named 'nope'"),
        (["--engineio", "nonsense"], "PATH=HANDLER"),
        (["--eio-ping-interval", "0"], "must be above 0"),
        (["--eio-ping-timeout", "x"], "eio-ping-timeout"),
        (["--max-http-buffer-size", "-5"], "max-http-buffer-size"),
        (["--eio-transports", "polling,carrier-pigeon"], "unknown engine.io transport"),
        (["--eio-transports", ""], "at least one"),
    ],
)
def test_usageErrors(args, message):
    with pytest.raises(usage.UsageError) as e:
        parse(*args)
    assert message in str(e.value)


def test_badMountIsUsageError():
    options = parse("--ws", "ws=echo")
    with pytest.raises(usage.UsageError) as e:
        tap.makeService(options, MemoryReactor())
    assert "must start with /" in str(e.value)


def test_badEndpointIsUsageError():
    options = parse("--listen", "bogus:1")
    with pytest.raises(usage.UsageError) as e:
        tap.makeService(options, MemoryReactor())
    assert "bad --listen endpoint" in str(e.value)


def test_oneSiteOnEveryEndpoint():
    options = parse("--listen", "tcp:9000", "--listen", "tcp:9001")
    service = tap.makeService(options, MemoryReactor())
    children = [c for c in service if isinstance(c, StreamServerEndpointService)]
    assert len(children) == 2
    assert children[0].factory is children[1].factory


def test_handlerPluginsListed():
    names = [p.name for p in availablePlugins("websocket")]
    assert "echo" in names
    assert findHandler("echo", "websocket") is EchoHandler
    with pytest.raises(UsageError):
        findHandler("rtproto.plugins.echo.nothing_here", "websocket")


def test_withBacklog():
    assert tap.withBacklog("unix:/tmp/s") == "unix:/tmp/s"
    assert tap.withBacklog("ssl:443:privateKey=k") == "ssl:443:privateKey=k:backlog=1024"


def test_gracefulStopIsStoppedLast():
    options = parse("--listen", "tcp:9000")
    service = tap.makeService(options, MemoryReactor())
    children = list(service)
    assert isinstance(children[0], tap.GracefulStop)
    assert children[0].site is children[-1].factory


def test_gcTuning():
    """
    By default the service freezes what exists when it starts and raises
    the youngest generation's threshold, and puts the threshold back when
    it stops; C{--gc-threshold 0} leaves the collector alone.
    """
    before = gc.get_threshold()
    service = tap.makeService(parse("--listen", "tcp:9000"), MemoryReactor())
    tuning = [c for c in service if isinstance(c, tap.GCTuning)]
    assert [t.threshold for t in tuning] == [tap.GC_THRESHOLD]
    try:
        tuning[0].startService()
        assert gc.get_threshold() == (tap.GC_THRESHOLD,) + before[1:]
        assert gc.get_freeze_count() > 0
        tuning[0].stopService()
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    service = tap.makeService(parse("--listen", "tcp:9000", "--gc-threshold", "0"), MemoryReactor())
    assert not [c for c in service if isinstance(c, tap.GCTuning)]
    with pytest.raises(usage.UsageError, match="--gc-threshold"):
        parse("--gc-threshold", "-1")


def test_engineioDefaults():
    """
    No engine.io mount by default; its options have the Node server's
    defaults.
    """
    options = parse()
    assert options["engineioHandlers"] == []
    eio = options["engineioOptions"]
    assert (eio.pingInterval, eio.pingTimeout, eio.maxHttpBufferSize) == (25, 20, 1_000_000)
    assert eio.transports == ("polling", "websocket")
    assert eio.allowUpgrades and eio.allowEIO3 and eio.httpCompression
    assert not eio.perMessageDeflate and eio.cookie is None and eio.corsOrigins == ()


def test_engineioOptions():
    options = parse(
        "--engineio", "/engine.io/=echo",
        "--eio-ping-interval", "0.3",
        "--eio-ping-timeout", "0.2",
        "--max-http-buffer-size", "500",
        "--eio-transports", "websocket",
        "--no-eio-upgrades",
        "--no-eio3",
        "--cors-origins", "https://a.example, https://b.example",
        "--cors-credentials",
        "--eio-cookie", "io",
        "--no-http-compression",
        "--eio-ws-compression",
    )
    assert options["engineioHandlers"] == [("/engine.io/", EngineIOEchoHandler)]
    eio = options["engineioOptions"]
    assert (eio.pingInterval, eio.pingTimeout, eio.maxHttpBufferSize) == (0.3, 0.2, 500)
    assert eio.transports == ("websocket",)
    assert not eio.allowUpgrades and not eio.allowEIO3 and not eio.httpCompression
    assert eio.corsOrigins == ("https://a.example", "https://b.example") and eio.corsCredentials
    assert eio.cookie == "io" and eio.perMessageDeflate


def test_engineioMounted():
    options = parse("--engineio", "/engine.io/=echo", "--eio-ping-interval", "7")
    service = tap.makeService(options, MemoryReactor())
    site = [c for c in service if isinstance(c, StreamServerEndpointService)][0].factory
    resource = site.resource.children[b"engine.io"]
    assert isinstance(resource, EngineIOResource)
    assert resource.options.pingInterval == 7
    assert site.engineio == [resource]
    assert site.fastRoutes[b"/engine.io/"] is resource


def test_engineioPluginListed():
    assert findHandler("echo", "engineio") is EngineIOEchoHandler


def test_accessLogOffByDefault():
    for args, expected in (((), False), (("--access-log",), True)):
        service = tap.makeService(parse(*args), MemoryReactor())
        site = [c for c in service if isinstance(c, StreamServerEndpointService)][0].factory
        assert site.accessLog is expected


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_shutdownTimeoutMustBePositive(value):
    """
    C{--shutdown-timeout} bounds how long a stop may take: it must be a
    finite number of seconds above 0.
    """
    with pytest.raises(usage.UsageError, match="--shutdown-timeout"):
        parse("--shutdown-timeout", value)


def test_shutdownTimeoutBoundsTheStop():
    """
    The graceful stop drops the WebSockets still open after
    C{--shutdown-timeout} seconds.
    """
    from twisted.internet.testing import MemoryReactorClock

    options = parse("--shutdown-timeout", "3")
    service = tap.makeService(options, MemoryReactorClock())
    [stop] = [c for c in service if isinstance(c, tap.GracefulStop)]
    assert stop.timeout == 3.0


def test_unreadableKeyFileIsUsageError(tmp_path):
    """
    A TLS endpoint naming a key file that is not there is a usage error,
    not a traceback.
    """
    from twisted.internet.testing import MemoryReactorClock

    missing = tmp_path / "missing.pem"
    options = parse("--listen", f"ssl:0:privateKey={missing}:certKey={missing}")
    with pytest.raises(usage.UsageError, match="bad --listen endpoint"):
        tap.makeService(options, MemoryReactorClock())


def test_helpIsTidy():
    """
    Every option's help is one paragraph without runs of spaces (the
    C{opt_} methods' docstrings span lines).
    """
    text = str(tap.Options())
    for name in ("--config=", "--listen=", "--static=", "--namespace=", "--shutdown-timeout="):
        assert name in text
    import re

    ragged = [line for line in text.splitlines() if re.search(r"\S {3,}\S", line[32:])]
    assert ragged == []
