"""
Writing the C{text/event-stream} format (L{rtproto.sse._encoding}), checked
byte for byte and read back by a reader that follows the WHATWG HTML
standard (L{tests.sse.eventstream}), the way a browser's C{EventSource}
reads it: multi-line payloads cut on CR, LF and CRLF only, empty data and
trailing newlines, non-ASCII text, the fields that are refused, C{retry}
and comments.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.errors import UsageError
from rtproto.sse import encodeComment, encodeEvent, encodeRetry
from tests.sse.eventstream import Event, EventStreamParser, parseStream


def normalized(text: str) -> str:
    """
    What a reader gets back for C{text}: CR and CRLF become LF.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def roundTrip(data: str, **kw) -> Event:
    """
    Encode one event and read it back; exactly one event must come out.
    """
    parser = parseStream(encodeEvent(data, **kw))
    assert len(parser.events) == 1, parser.events
    return parser.events[0]


class TestTheReader:
    """
    The test oracle itself, on the standard's own examples and rules.
    """

    def test_multiLineExample(self):
        parser = parseStream(b"data: YHOO\ndata: +2\ndata: 10\n\n")
        assert parser.events == [Event("message", "YHOO\n+2\n10", "")]

    def test_emptyDataExample(self):
        """
        The standard's example: "data" alone gives "", two give "\\n", and
        a last block without its blank line is dropped.
        """
        parser = parseStream(b"data\n\ndata\ndata\n\ndata:")
        assert [e.data for e in parser.events] == ["", "\n"]

    def test_oneSpaceRemoved(self):
        parser = parseStream(b"data:test\n\ndata: test\n\ndata:  test\n\n")
        assert [e.data for e in parser.events] == ["test", "test", " test"]

    @pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
    def test_lineEnds(self, eol):
        stream = eol.join([b"event: add", b"id: 7", b"data: a", b"data: b", b"", b""])
        for chunkSize in (None, 1, 2, 3):
            parser = parseStream(stream, chunkSize)
            assert parser.events == [Event("add", "a\nb", "7")], chunkSize

    def test_crlfCutBetweenChunks(self):
        parser = EventStreamParser()
        parser.feed(b"data: a\r")
        parser.feed(b"\ndata: b\r")
        parser.feed(b"\n\r")
        parser.feed(b"\n")
        assert parser.events == [Event("message", "a\nb", "")]

    def test_bomDroppedOnce(self):
        bom = "\ufeff".encode()
        assert parseStream(bom + b"data: x\n\n").events == [Event("message", "x", "")]
        # a second one is part of the first field's name: not "data"
        assert parseStream(bom + bom + b"data: x\n\n").events == []
        parser = EventStreamParser()
        for byte in bom + b"data: y\n\n":
            parser.feed(bytes([byte]))
        assert parser.events == [Event("message", "y", "")]

    def test_idWithNulIgnored(self):
        parser = parseStream(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
        assert parser.events == [Event("message", "a", "1"), Event("message", "b", "1")]
        assert parser.lastEventId == "1"

    def test_idKeptAcrossEvents(self):
        parser = parseStream(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
        assert [e.lastEventId for e in parser.events] == ["1", "1", ""]

    def test_idWithoutData(self):
        """
        A blank line sets the last event id even when nothing is dispatched.
        """
        parser = parseStream(b"id: 5\n\n")
        assert parser.events == [] and parser.lastEventId == "5"

    def test_retry(self):
        assert parseStream(b"retry: 1500\n\n").retry == 1500
        assert parseStream(b"retry: 1.5\n\n").retry is None
        assert parseStream(b"retry: -1\n\n").retry is None
        assert parseStream(b"retry:\n\n").retry is None

    def test_commentsAndUnknownFields(self):
        parser = parseStream(b": hello\n:x\nfoo: bar\nData: no\ndata: yes\n\n")
        assert parser.comments == ["hello", "x"]
        assert parser.events == [Event("message", "yes", "")]

    def test_unfinishedEventDropped(self):
        assert parseStream(b"data: a\n").events == []
        assert parseStream(b"data: a\n\ndata: b").events == [Event("message", "a", "")]

    def test_badUtf8Replaced(self):
        assert parseStream(b"data: \xff\n\n").events[0].data == "\ufffd"


class TestData:
    def test_oneLine(self):
        assert encodeEvent("hello") == b"data: hello\n\n"

    @pytest.mark.parametrize(
        "data, lines",
        [
            ("a\nb", ["a", "b"]),
            ("a\rb", ["a", "b"]),
            ("a\r\nb", ["a", "b"]),
            ("a\rb\nc\r\nd", ["a", "b", "c", "d"]),
            ("a\r\n\r\nb", ["a", "", "b"]),
            ("a\n\rb", ["a", "", "b"]),
            ("a\r\r\nb", ["a", "", "b"]),
            ("\n", ["", ""]),
            ("\r\n", ["", ""]),
        ],
    )
    def test_cutOnCrLfAndCrlf(self, data, lines):
        expected = "".join(f"data: {line}\n" for line in lines) + "\n"
        assert encodeEvent(data) == expected.encode()
        assert roundTrip(data).data == normalized(data)

    @pytest.mark.parametrize(
        "separator",
        ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"],
    )
    def test_otherLineBreaksNotCut(self, separator):
        """
        L{str.splitlines} would cut on these; the event-stream format does
        not, so they stay inside one C{data:} line.
        """
        data = f"a{separator}b"
        assert len(data.splitlines()) == 2
        assert encodeEvent(data) == b"data: " + data.encode() + b"\n\n"
        assert roundTrip(data).data == data

    def test_nonAscii(self):
        data = "h\xe9llo \u4e16\u754c \U0001f389\nz\xfcrich"
        encoded = encodeEvent(data)
        assert encoded == "data: h\xe9llo \u4e16\u754c \U0001f389\ndata: z\xfcrich\n\n".encode()
        assert roundTrip(data).data == data

    def test_emojiCutAcrossChunks(self):
        encoded = encodeEvent("\U0001f389", id="\u00e9")
        parser = parseStream(encoded, chunkSize=1)
        assert parser.events == [Event("message", "\U0001f389", "\u00e9")]

    def test_empty(self):
        """
        An empty payload is still one C{data:} line: without it a browser
        dispatches nothing.
        """
        assert encodeEvent("") == b"data: \n\n"
        assert roundTrip("").data == ""

    @pytest.mark.parametrize("data", ["a\n", "a\n\n", "\n\n\n", "a\r", "a\r\n"])
    def test_trailingNewlines(self, data):
        assert roundTrip(data).data == normalized(data)

    def test_trailingNewlineBytes(self):
        assert encodeEvent("a\n") == b"data: a\ndata: \n\n"

    @pytest.mark.parametrize("data", ["  indented", " ", ": not a comment", "data: x", "\0nul", "\ufeffbom"])
    def test_awkwardContent(self, data):
        assert roundTrip(data).data == data

    @pytest.mark.parametrize("data", [b"bytes", None, 1, ["a"], bytearray(b"x")])
    def test_notText(self, data):
        with pytest.raises(UsageError, match="data must be a str"):
            encodeEvent(data)

    def test_loneSurrogate(self):
        with pytest.raises(UsageError, match="surrogate"):
            encodeEvent("a\ud800b")
        with pytest.raises(UsageError, match="surrogate"):
            encodeEvent("a", id="\udfff")

    def test_strSubclass(self):
        class Text(str):
            pass

        assert encodeEvent(Text("x")) == b"data: x\n\n"


class TestFields:
    def test_order(self):
        encoded = encodeEvent("d", event="tick", id="e-1", retry=2500)
        assert encoded == b"id: e-1\nevent: tick\nretry: 2500\ndata: d\n\n"
        parser = parseStream(encoded)
        assert parser.events == [Event("tick", "d", "e-1")]
        assert parser.retry == 2500

    def test_event(self):
        assert encodeEvent("d", event="add") == b"event: add\ndata: d\n\n"
        assert roundTrip("d", event="add").type == "add"

    def test_emptyEventIsMessage(self):
        assert encodeEvent("d", event="") == b"data: d\n\n"
        assert roundTrip("d", event="").type == "message"

    def test_eventKeepsItsSpacesAndColons(self):
        assert roundTrip("d", event=" a:b ").type == " a:b "

    def test_id(self):
        assert encodeEvent("d", id="42") == b"id: 42\ndata: d\n\n"
        assert roundTrip("d", id="42").lastEventId == "42"

    def test_emptyIdClears(self):
        """
        C{id=""} is written: it clears the browser's last event id.
        """
        assert encodeEvent("d", id="") == b"id: \ndata: d\n\n"
        parser = parseStream(encodeEvent("a", id="1") + encodeEvent("b", id=""))
        assert [e.lastEventId for e in parser.events] == ["1", ""]

    def test_noIdKeepsTheLastOne(self):
        parser = parseStream(encodeEvent("a", id="1") + encodeEvent("b"))
        assert [e.lastEventId for e in parser.events] == ["1", "1"]

    @pytest.mark.parametrize("field", ["event", "id"])
    @pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "\n", "a\0b", "\0", "x\n"])
    def test_refused(self, field, bad):
        with pytest.raises(UsageError) as caught:
            encodeEvent("d", **{field: bad})
        message = str(caught.value)
        assert f"SSE {field}" in message and "CR, LF or NUL" in message

    def test_refusedMessageIsShort(self):
        with pytest.raises(UsageError) as caught:
            encodeEvent("d", id="x" * 10_000 + "\n")
        assert len(str(caught.value)) < 200

    @pytest.mark.parametrize("field", ["event", "id"])
    @pytest.mark.parametrize("bad", [1, b"x", ["x"]])
    def test_notText(self, field, bad):
        with pytest.raises(UsageError, match=f"SSE {field} must be a str"):
            encodeEvent("d", **{field: bad})

    def test_retry(self):
        assert encodeEvent("d", retry=0) == b"retry: 0\ndata: d\n\n"
        assert parseStream(encodeEvent("d", retry=10_000)).retry == 10_000

    @pytest.mark.parametrize("bad", [-1, 1.5, True, False, "100", [1]])
    def test_badRetry(self, bad):
        with pytest.raises(UsageError, match="retry must be a non-negative int"):
            encodeEvent("d", retry=bad)


class TestComments:
    def test_empty(self):
        assert encodeComment() == b": \n\n"

    def test_text(self):
        assert encodeComment("keep-alive") == b": keep-alive\n\n"

    @pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\r\nb"])
    def test_multiLine(self, text):
        assert encodeComment(text) == b": a\n: b\n\n"

    def test_nonAscii(self):
        assert encodeComment("\u2028\xe9") == ": \u2028\xe9\n\n".encode()

    def test_invisibleToTheReader(self):
        """
        Comments between events dispatch nothing and change nothing.
        """
        stream = (
            encodeComment("hi")
            + encodeEvent("a", id="1")
            + encodeComment("two\nlines")
            + encodeComment()
            + encodeEvent("b\n", event="x")
        )
        parser = parseStream(stream)
        assert parser.events == [Event("message", "a", "1"), Event("x", "b\n", "1")]
        assert parser.comments == ["hi", "two", "lines", ""]

    @pytest.mark.parametrize("bad", [None, b"x", 3])
    def test_notText(self, bad):
        with pytest.raises(UsageError, match="comment must be a str"):
            encodeComment(bad)

    def test_loneSurrogate(self):
        with pytest.raises(UsageError, match="surrogate"):
            encodeComment("\ud800")


class TestRetry:
    def test_bytes(self):
        assert encodeRetry(3000) == b"retry: 3000\n\n"
        assert encodeRetry(0) == b"retry: 0\n\n"

    def test_read(self):
        parser = parseStream(encodeRetry(3000) + encodeEvent("a"))
        assert parser.retry == 3000
        assert parser.events == [Event("message", "a", "")]

    @pytest.mark.parametrize("bad", [-5, 2.0, True, "10", None])
    def test_bad(self, bad):
        with pytest.raises(UsageError):
            encodeRetry(bad)


class TestStream:
    def test_manyEventsAnyChunking(self):
        """
        A whole stream reads the same whatever the chunks it arrives in.
        """
        events = [
            ("", None, None),
            ("a\r\nb", "t1", "e-1"),
            ("\U0001f389\n", None, "e-2"),
            ("\u2028", "t2", None),
        ]
        stream = encodeRetry(1000) + encodeComment("open")
        for data, event, eventId in events:
            stream += encodeEvent(data, event=event, id=eventId) + encodeComment()
        expected = [
            Event("message", "", ""),
            Event("t1", "a\nb", "e-1"),
            Event("message", "\U0001f389\n", "e-2"),
            Event("t2", "\u2028", "e-2"),
        ]
        for chunkSize in (None, 1, 2, 3, 5, 7, 64):
            parser = parseStream(stream, chunkSize)
            assert parser.events == expected, chunkSize
            assert parser.retry == 1000

    def test_bomInFrontOfOurStream(self):
        bom = "\ufeff".encode()
        assert parseStream(bom + encodeEvent("x")).events == [Event("message", "x", "")]

    def test_crlfLineEndsReadTheSame(self):
        """
        Our LF line ends turned into CRLF or CR (as a proxy might) read the
        same: only data that held CR would differ, and it cannot.
        """
        stream = encodeEvent("a\nb", event="e", id="1") + encodeComment("c") + encodeEvent("")
        assert b"\r" not in stream
        plain = parseStream(stream).events
        assert parseStream(stream.replace(b"\n", b"\r\n")).events == plain
        assert parseStream(stream.replace(b"\n", b"\r")).events == plain


fieldText = st.text().filter(lambda s: not any(c in s for c in "\r\n\0"))


class TestProperties:
    @settings(max_examples=400, deadline=None)
    @given(data=st.text())
    def test_anyDataRoundTrips(self, data):
        assert roundTrip(data).data == normalized(data)

    @settings(max_examples=200, deadline=None)
    @given(
        data=st.text(alphabet=st.sampled_from("ab \r\n\u2028\x85\x0b\x0c\x1c:\0\ufeff\xe9\U0001f389")),
        event=st.none() | fieldText,
        eventId=st.none() | fieldText,
        retry=st.none() | st.integers(min_value=0, max_value=10**12),
    )
    def test_anyEventRoundTrips(self, data, event, eventId, retry):
        parser = EventStreamParser()
        parser.feed(b"id: before\n\n")
        parser.feed(encodeEvent(data, event=event, id=eventId, retry=retry))
        assert parser.events == [
            Event(event or "message", normalized(data), "before" if eventId is None else eventId)
        ]
        assert parser.retry == retry

    @settings(max_examples=200, deadline=None)
    @given(
        datas=st.lists(st.text(), min_size=1, max_size=5),
        comment=st.text(),
        cuts=st.lists(st.integers(min_value=1, max_value=9), max_size=50),
    )
    def test_streamsRoundTripInAnyChunks(self, datas, comment, cuts):
        stream = b"".join(encodeEvent(d, id=str(i)) + encodeComment(comment) for i, d in enumerate(datas))
        parser = EventStreamParser()
        pos = 0
        for cut in cuts:
            parser.feed(stream[pos : pos + cut])
            pos += cut
        parser.feed(stream[pos:])
        assert parser.events == [Event("message", normalized(d), str(i)) for i, d in enumerate(datas)]
        assert parser.comments == normalized(comment).split("\n") * len(datas)

    @settings(max_examples=200, deadline=None)
    @given(data=st.text(), event=fieldText, eventId=fieldText)
    def test_onlyKnownLines(self, data, event, eventId):
        """
        Every line written is one of our fields, and no CR is ever written.
        """
        encoded = encodeEvent(data, event=event, id=eventId).decode("utf-8")
        assert "\r" not in encoded and encoded.endswith("\n\n")
        for line in encoded[:-2].split("\n"):
            assert line.startswith(("id: ", "event: ", "data: ")), line
