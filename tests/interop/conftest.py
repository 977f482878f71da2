"""
Fixtures of the interop tests: the reactor (pytest-twisted's), a cleanup
stack run after each test, rtproto servers, peer processes (the
C{websockets} client and server under C{peers/}) and a self-signed TLS
certificate for C{wss://}.
"""

import datetime
import ipaddress
import json

import pytest
import pytest_twisted
from twisted.internet import defer

from rtproto.websocket import WebSocketOptions

from .support import PeerProcess, ServerUnderTest, within


@pytest.fixture
def reactor():
    """
    The reactor pytest-twisted runs (imported here, never at module level).
    """
    from twisted.internet import reactor

    return reactor


@pytest_twisted.async_yield_fixture
async def cleanup(reactor):
    """
    Register zero-argument callables (returning a Deferred, a coroutine or
    nothing) to run, last registered first, after the test.  Each is
    bounded; every one runs even if another failed.
    """
    stack = []
    yield stack.append
    errors = []
    for fn in reversed(stack):
        try:
            result = fn()
            if result is not None:
                await within(reactor, defer.ensureDeferred(result), f"cleanup {fn!r}")
        except Exception as e:  # report them all, below
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def rtprotoServer(reactor, cleanup):
    """
    A factory: C{await rtprotoServer(options=None, tlsEndpoint=None)} starts
    a L{ServerUnderTest}, stopped after the test.
    """

    async def start(options: "WebSocketOptions | None" = None, tlsEndpoint: "str | None" = None):
        """
        Start it (see the fixture).
        """
        server = ServerUnderTest(reactor, options, tlsEndpoint)
        cleanup(server.stop)
        return await server.start()

    return start


@pytest.fixture
def spawnPeer(reactor, cleanup):
    """
    A factory: C{spawnPeer(script, args)} starts a L{PeerProcess}, stopped
    (stdin closed, killed if need be) after the test.
    """

    def spawn(script: str, args: "list[str]") -> PeerProcess:
        """
        Spawn it (see the fixture).
        """
        peer = PeerProcess(reactor, script, args).start()
        cleanup(peer.stop)
        return peer

    return spawn


@pytest.fixture
def runWsClient(spawnPeer):
    """
    A factory: C{await runWsClient(url, steps, compression=True,
    subprotocols=(), maxSize=8 MiB)} runs C{peers/ws_client.py} and returns
    its peer process (C{await peer.finished()} for all its events).
    """

    def run(url: str, steps=(), compression: bool = True, subprotocols=(), maxSize: int = 8 << 20) -> PeerProcess:
        """
        Run it (see the fixture).
        """
        args = ["--url", url, "--compression", "deflate" if compression else "none", "--max-size", str(maxSize)]
        for name in subprotocols:
            args += ["--subprotocol", name]
        args += ["--steps", json.dumps(list(steps))]
        return spawnPeer("ws_client.py", args)

    return run


@pytest.fixture
def wsServer(spawnPeer):
    """
    A factory: C{await wsServer(compression=True)} starts
    C{peers/ws_server.py} and returns C{(peer, port)}.
    """

    async def start(compression: bool = True, maxSize: int = 8 << 20):
        """
        Start it (see the fixture).
        """
        peer = spawnPeer("ws_server.py", ["--compression", "deflate" if compression else "none", "--max-size", str(maxSize)])
        event = await peer.nextEvent("the websockets server to listen")
        assert event["event"] == "listening", peer.describe()
        return peer, event["port"]

    return start


@pytest.fixture(scope="session")
def tlsFiles(tmp_path_factory):
    """
    A self-signed certificate for C{localhost} and C{127.0.0.1}, made with
    C{cryptography} (installed with C{Twisted[tls]}).

    @return: C{(keyPath, certPath, certPEM)}.
    """
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    keyPath, certPath = folder / "key.pem", folder / "cert.pem"
    keyPath.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    certPEM = cert.public_bytes(serialization.Encoding.PEM)
    certPath.write_bytes(certPEM)
    return keyPath, certPath, certPEM

