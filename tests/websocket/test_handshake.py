"""
RFC 6455 section 4: the opening handshake, server side (L{checkRequest},
L{buildResponse}) and client side (L{ClientHandshake}).
"""

import pytest

from rtproto.errors import HandshakeError
from rtproto.websocket import (
    ClientHandshake,
    UpgradeRequest,
    acceptKey,
    buildResponse,
    checkRequest,
)
from rtproto.websocket._deflate import DeflateOptions, PerMessageDeflate
from rtproto.websocket._handshake import MAX_RESPONSE_HEAD

# RFC 6455 section 1.3 and 4.2.2: the sample nonce and its accept value.
SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
SAMPLE_NONCE = b"the sample nonce"


def upgradeHeaders(**changes):
    """
    The headers of a valid upgrade request (lower-case names to lists of
    values); C{changes} replace (or, with L{None}, remove) headers, with
    underscores standing for dashes.
    """
    headers = {
        "host": ["server.example.com"],
        "upgrade": ["websocket"],
        "connection": ["Upgrade"],
        "sec-websocket-key": [SAMPLE_KEY],
        "sec-websocket-version": ["13"],
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def refusal(method="GET", allowedOrigins=(), **changes) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        checkRequest(method, upgradeHeaders(**changes), allowedOrigins)
    return info.value


def parseRequest(data: bytes):
    """
    Split a request into its request line and lower-cased headers.
    """
    assert data.endswith(b"\r\n\r\n")
    lines = data[:-4].decode("latin-1").split("\r\n")
    headers: "dict[str, list[str]]" = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], headers


def response101(accept=SAMPLE_ACCEPT, extra=()):
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def sampleClient(**kwargs) -> ClientHandshake:
    kwargs.setdefault("randomBytes", lambda n: SAMPLE_NONCE[:n])
    return ClientHandshake("server.example.com", "/chat", **kwargs)


class TestRFC6455Section4_2_2AcceptKey:
    """
    Section 4.2.2 (example in section 1.3): the C{Sec-WebSocket-Accept}
    value is base64(SHA-1(key + GUID)).
    """

    def test_rfcExampleKey(self):
        assert acceptKey(SAMPLE_KEY) == SAMPLE_ACCEPT

    def test_bytesKey(self):
        assert acceptKey(SAMPLE_KEY.encode("ascii")) == SAMPLE_ACCEPT

    def test_otherKey(self):
        # A second, independently computed value, so a constant cannot pass.
        assert acceptKey("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk="


class TestRFC6455Section4_2_1ReadingTheHandshake:
    """
    Section 4.2.1: what the server requires of the client's request, and
    section 4.2.2 / 4.4 for the status of a refusal.
    """

    def test_validRequest(self):
        request = checkRequest("GET", upgradeHeaders())
        assert isinstance(request, UpgradeRequest)
        assert request.key == SAMPLE_KEY
        assert request.subprotocols == []
        assert request.extensions == []
        assert request.origin is None

    def test_plainGetIs426(self):
        """
        A GET without C{Upgrade: websocket} is answered 426 naming the
        protocol and version to upgrade to.
        """
        error = refusal(upgrade=None, connection=None, sec_websocket_key=None,
                        sec_websocket_version=None)
        assert error.status == 426
        assert ("Upgrade", "websocket") in error.headers
        assert ("Sec-WebSocket-Version", "13") in error.headers

    @pytest.mark.parametrize("version", ["8", "12", "14", "13, 8"])
    def test_unsupportedVersionAdvertises13(self, version):
        """
        Section 4.4: a version the server does not speak is answered with
        426 and the C{Sec-WebSocket-Version} it does speak.
        """
        error = refusal(sec_websocket_version=[version])
        assert error.status == 426
        assert ("Sec-WebSocket-Version", "13") in error.headers

    def test_unsupportedVersion426NamesUpgrade(self):
        """
        A 426 response must carry an C{Upgrade} header (RFC 9110 section
        15.5.22, formerly RFC 7231 section 6.5.15: "The server MUST send an
        Upgrade header field in a 426 response"), also when the 426 is for a
        version mismatch.
        """
        error = refusal(sec_websocket_version=["8"])
        assert error.status == 426
        assert ("Upgrade", "websocket") in error.headers

    @pytest.mark.parametrize("method", ["POST", "PUT", "HEAD", "get"])
    def test_notGetIs405(self, method):
        error = refusal(method=method)
        assert error.status == 405
        assert ("Allow", "GET") in error.headers

    @pytest.mark.parametrize("connection", [None, ["keep-alive"], ["close"], ["upgraded"]])
    def test_connectionWithoutUpgradeIs400(self, connection):
        error = refusal(connection=connection)
        assert error.status == 400

    @pytest.mark.parametrize(
        "connection, upgrade",
        [
            (["keep-alive, Upgrade"], ["websocket"]),
            (["keep-alive", "upgrade"], ["WebSocket"]),
            (["UPGRADE"], ["h2c, websocket"]),
        ],
    )
    def test_headerTokenLists(self, connection, upgrade):
        """
        C{Connection} and C{Upgrade} are token lists, matched
        case-insensitively (section 4.2.1 items 3 and 4).
        """
        request = checkRequest("GET", upgradeHeaders(connection=connection, upgrade=upgrade))
        assert request.key == SAMPLE_KEY

    @pytest.mark.parametrize(
        "key",
        [
            None,
            ["not base64!!"],
            ["dGhlIHNhbXBsZSBub25jZQ"],  # missing padding
            ["dGhlIHNhbXBsZSBub25j"],  # 15 bytes
            ["dGhlIHNhbXBsZSBub25jZSE="],  # 17 bytes
            [""],
            [SAMPLE_KEY, SAMPLE_KEY],  # repeated
        ],
    )
    def test_badKeyIs400(self, key):
        """
        Section 4.2.1 item 5: the key is base64 of exactly 16 bytes.
        """
        error = refusal(sec_websocket_key=key)
        assert error.status == 400

    @pytest.mark.parametrize("host", [None, []])
    def test_missingHostIs400(self, host):
        error = refusal(host=host)
        assert error.status == 400

    def test_originAllowed(self):
        request = checkRequest(
            "GET",
            upgradeHeaders(origin=["https://app.example.com"]),
            ("https://other.example.org", "https://app.example.com"),
        )
        assert request.origin == "https://app.example.com"

    def test_originCaseInsensitive(self):
        request = checkRequest(
            "GET", upgradeHeaders(origin=["HTTPS://App.Example.COM"]), ("https://app.example.com",)
        )
        assert request.origin == "HTTPS://App.Example.COM"

    @pytest.mark.parametrize(
        "origin",
        [
            "https://evil.example.net",
            "http://app.example.com",  # other scheme
            "https://app.example.com:8443",  # other port
            "https://app.example.com.evil.net",
            "null",
        ],
    )
    def test_originNotAllowedIs403(self, origin):
        """
        Section 4.2.2 item 4 / 10.2: a server checking origins refuses the
        others with 403.
        """
        error = refusal(origin=[origin], allowedOrigins=("https://app.example.com",))
        assert error.status == 403

    def test_noAllowListAllowsAnyOrigin(self):
        request = checkRequest("GET", upgradeHeaders(origin=["https://anything.test"]))
        assert request.origin == "https://anything.test"

    def test_starAllowsAnyOrigin(self):
        request = checkRequest("GET", upgradeHeaders(origin=["https://anything.test"]), ("*",))
        assert request.origin == "https://anything.test"

    @pytest.mark.parametrize(
        "origin", ["https://chat.example.com", "https://a.b.example.com", "https://X.EXAMPLE.com"]
    )
    def test_wildcardSubdomainAllowed(self, origin):
        request = checkRequest("GET", upgradeHeaders(origin=[origin]), ("https://*.example.com",))
        assert request.origin == origin

    @pytest.mark.parametrize(
        "origin",
        [
            "https://example.com",  # the bare domain is not a subdomain
            "https://evilexample.com",
            "http://chat.example.com",
            "https://chat.example.com.evil.net",
            "https://chat.example.com:8443",
        ],
    )
    def test_wildcardSubdomainRefused(self, origin):
        error = refusal(origin=[origin], allowedOrigins=("https://*.example.com",))
        assert error.status == 403

    def test_subprotocolsInOrder(self):
        """
        Section 4.2.1 item 8: the offered subprotocols, in the client's
        order of preference, across repeated headers.
        """
        request = checkRequest(
            "GET", upgradeHeaders(sec_websocket_protocol=["chat, superchat", "v2.json.rtproto"])
        )
        assert request.subprotocols == ["chat", "superchat", "v2.json.rtproto"]

    def test_extensionsParsed(self):
        """
        Section 4.2.1 item 9 / 9.1: extension offers with parameters, quoted
        values unquoted, across repeated headers.
        """
        request = checkRequest(
            "GET",
            upgradeHeaders(
                sec_websocket_extensions=[
                    'permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"',
                    "x-custom;Flag; level=3",
                ]
            ),
        )
        assert request.extensions == [
            ("permessage-deflate", {"client_max_window_bits": None}),
            ("permessage-deflate", {"server_max_window_bits": "10"}),
            ("x-custom", {"flag": None, "level": "3"}),
        ]

    @pytest.mark.parametrize("value", ["permessage-deflate; =1", "; foo", "permessage-deflate;;"])
    def test_malformedExtensionsIs400(self, value):
        error = refusal(sec_websocket_extensions=[value])
        assert error.status == 400


class TestRFC6455Section4_2_2SendingTheServersHandshake:
    """
    Section 4.2.2: the 101 response.
    """

    def test_minimalResponse(self):
        assert buildResponse(SAMPLE_KEY) == (
            b"HTTP/1.1 101 Switching Protocols\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"\r\n"
        )

    def test_fullResponse(self):
        response = buildResponse(
            SAMPLE_KEY,
            subprotocol="chat",
            extensions="permessage-deflate; server_no_context_takeover",
            extraHeaders=[("Set-Cookie", "a=b")],
        )
        assert response == (
            b"HTTP/1.1 101 Switching Protocols\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"Sec-WebSocket-Protocol: chat\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
            b"Set-Cookie: a=b\r\n"
            b"\r\n"
        )


class TestRFC6455Section4_1ClientRequirements:
    """
    Section 4.1: the client's request and its validation of the server's
    response.
    """

    def test_request(self):
        handshake = sampleClient()
        assert handshake.key == SAMPLE_KEY
        assert handshake.request() == (
            b"GET /chat HTTP/1.1\r\n"
            b"Host: server.example.com\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n"
            b"\r\n"
        )

    def test_requestWithOptions(self):
        handshake = sampleClient(
            subprotocols=["chat", "superchat"],
            origin="http://example.com",
            deflate=DeflateOptions(),
            extraHeaders=[("Authorization", "Bearer x")],
        )
        assert handshake.request() == (
            b"GET /chat HTTP/1.1\r\n"
            b"Host: server.example.com\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n"
            b"Origin: http://example.com\r\n"
            b"Sec-WebSocket-Protocol: chat, superchat\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            b"Authorization: Bearer x\r\n"
            b"\r\n"
        )

    def test_keyIsFreshRandom(self):
        """
        Section 4.1: the key is a randomly selected 16-byte value; two
        handshakes from the default source differ.
        """
        a = ClientHandshake("h").key
        b = ClientHandshake("h").key
        assert a != b
        assert len(a) == 24 and a.endswith("==")

    def test_requestPassesServerCheck(self):
        handshake = sampleClient(subprotocols=["chat"], origin="https://app.example.com",
                                 deflate=DeflateOptions())
        line, headers = parseRequest(handshake.request())
        assert line == "GET /chat HTTP/1.1"
        request = checkRequest("GET", headers, ("https://app.example.com",))
        assert request.subprotocols == ["chat"]
        assert request.extensions == [("permessage-deflate", {"client_max_window_bits": None})]
        assert handshake.receiveData(buildResponse(request.key, "chat")) == b""
        assert handshake.subprotocol == "chat"

    def test_acceptsGood101(self):
        handshake = sampleClient()
        assert handshake.receiveData(response101()) == b""
        assert handshake.done
        assert handshake.status == 101
        assert handshake.subprotocol is None
        assert handshake.codec is None

    def test_responseHeadersCaseInsensitive(self):
        """
        Header names are case-insensitive, C{Upgrade} and C{Connection}
        hold token lists, and the reason phrase may be empty.
        """
        handshake = sampleClient()
        data = (
            b"HTTP/1.1 101\r\n"
            b"upgrade: WebSocket\r\n"
            b"CONNECTION: keep-alive, Upgrade\r\n"
            b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"\r\n"
        )
        assert handshake.receiveData(data) == b""
        assert handshake.done

    def test_responseByteByByte(self):
        handshake = sampleClient()
        data = response101()
        for i in range(len(data) - 1):
            assert handshake.receiveData(data[i : i + 1]) is None
            assert not handshake.done
        assert handshake.receiveData(data[-1:]) == b""
        assert handshake.done

    def test_leftoverBytesReturned(self):
        """
        Frames the server sent right after its response belong to the
        connection, not the handshake.
        """
        handshake = sampleClient()
        assert handshake.receiveData(response101() + b"\x81\x02hi\x89") == b"\x81\x02hi\x89"

    def test_wrongAcceptRefused(self):
        handshake = sampleClient()
        with pytest.raises(HandshakeError):
            handshake.receiveData(response101(accept=acceptKey("x3JJHMbDL1EzLkh9GBhXDw==")))
        assert not handshake.done

    def test_missingAcceptRefused(self):
        handshake = sampleClient()
        data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        with pytest.raises(HandshakeError):
            handshake.receiveData(data)

    @pytest.mark.parametrize(
        "head",
        [
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade",
        ],
    )
    def test_missingUpgradeOrConnectionRefused(self, head):
        handshake = sampleClient()
        data = f"{head}\r\nSec-WebSocket-Accept: {SAMPLE_ACCEPT}\r\n\r\n".encode()
        with pytest.raises(HandshakeError):
            handshake.receiveData(data)

    @pytest.mark.parametrize("status", [200, 400, 403, 426, 503])
    def test_non101Refused(self, status):
        """
        Section 4.1: anything but 101 ends the handshake; the status is kept
        for the application.
        """
        handshake = sampleClient()
        with pytest.raises(HandshakeError) as info:
            handshake.receiveData(f"HTTP/1.1 {status} Nope\r\nContent-Length: 0\r\n\r\n".encode())
        assert info.value.status == status
        assert handshake.status == status
        assert not handshake.done

    def test_malformedStatusLineRefused(self):
        handshake = sampleClient()
        with pytest.raises(HandshakeError):
            handshake.receiveData(b"SPDY/3 101 Hi\r\n\r\n")

    @pytest.mark.parametrize("status", ["1\u00b91", "\u00b2\u00b2\u00b2", "10"])
    def test_malformedStatusCodeRefused(self, status):
        """
        The status code is three ASCII digits (RFC 9112 section 4).  The
        head is decoded as latin-1, where C{B9} is superscript one: a
        server sending it must get a L{HandshakeError}, not a ValueError.
        """
        handshake = sampleClient()
        with pytest.raises(HandshakeError):
            handshake.receiveData(f"HTTP/1.1 {status} Switching Protocols\r\n\r\n".encode("latin-1"))
        assert not handshake.done

    def test_offeredSubprotocolAccepted(self):
        handshake = sampleClient(subprotocols=["chat", "superchat"])
        handshake.receiveData(response101(extra=["Sec-WebSocket-Protocol: superchat"]))
        assert handshake.subprotocol == "superchat"

    @pytest.mark.parametrize(
        "offered, answer",
        [
            ([], "chat"),
            (["chat"], "superchat"),
            (["chat", "superchat"], "chat, superchat"),
        ],
    )
    def test_unofferedSubprotocolRefused(self, offered, answer):
        handshake = sampleClient(subprotocols=offered)
        with pytest.raises(HandshakeError):
            handshake.receiveData(response101(extra=[f"Sec-WebSocket-Protocol: {answer}"]))
        assert not handshake.done

    def test_unofferedExtensionRefused(self):
        handshake = sampleClient()
        with pytest.raises(HandshakeError):
            handshake.receiveData(response101(extra=["Sec-WebSocket-Extensions: permessage-deflate"]))

    def test_otherExtensionThanOfferedRefused(self):
        handshake = sampleClient(deflate=DeflateOptions())
        with pytest.raises(HandshakeError):
            handshake.receiveData(response101(extra=["Sec-WebSocket-Extensions: x-webkit-deflate-frame"]))

    def test_acceptedDeflate(self):
        handshake = sampleClient(deflate=DeflateOptions())
        handshake.receiveData(
            response101(extra=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10"])
        )
        assert isinstance(handshake.codec, PerMessageDeflate)
        assert handshake.codec.sendWindowBits == 10
        assert handshake.extensions == "permessage-deflate; client_max_window_bits=10"

    def test_declinedDeflate(self):
        handshake = sampleClient(deflate=DeflateOptions())
        handshake.receiveData(response101())
        assert handshake.codec is None

    def test_oversizeHeadRefused(self):
        """
        The response head is bounded: a server that never ends it cannot
        make the client buffer without limit.
        """
        handshake = sampleClient()
        chunk = b"HTTP/1.1 101 Switching Protocols\r\n"
        handshake.receiveData(chunk)
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        with pytest.raises(HandshakeError):
            for _ in range(MAX_RESPONSE_HEAD // len(filler) + 2):
                handshake.receiveData(filler)
        assert not handshake.done
