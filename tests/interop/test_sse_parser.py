"""
The WHATWG event stream parser of the Python SSE peer
(C{sse_pyclient.Parser}), checked on its own -- against the examples of
the HTML standard's "Interpreting an event stream" section and on every way
of cutting a stream into chunks -- so that what the peer reports about a
server can be trusted.  No server, no network.
"""

import pytest

from .sse_pyclient import Parser


def parse(chunks) -> "list[tuple]":
    """
    Feed C{chunks} to a new parser; everything it completed.
    """
    parser = Parser()
    out = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def events(items) -> "list[tuple]":
    """
    The events of a parse, as C{(type, data, lastEventId)}.
    """
    return [item[1:] for item in items if item[0] == "event"]


STREAM = (
    "\ufeffretry: 1500\n\n"
    ": a comment\n"
    "id: 1\nevent: greeting\ndata: hello\ndata:  two spaces\n\n"
    "data:no space\r\n\r\n"
    "id: 2\rdata: cr\rdata:\r\r"
    "id\ndata\n\n"
    "id: bad\0id\ndata: nul id ignored\n\n"
    "event: empty\n\n"
    "retry: 12x\nretry: 300\n"
    "data: u2028\u2028 stays\n\n"
    "field without colon\ndata: x\n\n"
    "data: unfinished at the end"
)

EXPECTED = [
    ("retry", 1500),
    ("comment", " a comment"),
    ("event", "greeting", "hello\n two spaces", "1"),
    ("event", "message", "no space", "1"),
    ("event", "message", "cr\n", "2"),
    ("event", "message", "", ""),
    ("event", "message", "nul id ignored", ""),
    ("retry", 300),
    ("event", "message", "u2028\u2028 stays", ""),
    ("event", "message", "x", ""),
]


def test_whole_stream():
    """
    A stream in one chunk: BOM dropped, comments, one leading space taken
    off a value, LF, CRLF and CR line ends, an empty C{id} resetting the
    last event id, an C{id} with NUL ignored, an event with no data not
    dispatched, a bad C{retry} ignored, U+2028 not a line end, an
    unfinished event dropped.
    """
    assert parse([STREAM]) == EXPECTED


def test_every_two_chunk_split():
    """
    The same, cut in two at every position (a CRLF cut in the middle
    included).
    """
    for i in range(len(STREAM) + 1):
        assert parse([STREAM[:i], STREAM[i:]]) == EXPECTED, i


def test_one_character_at_a_time():
    """
    The same, one character per chunk, and with empty chunks between.
    """
    assert parse(list(STREAM)) == EXPECTED
    assert parse([part for c in STREAM for part in (c, "")]) == EXPECTED


@pytest.mark.parametrize(
    "stream, expected",
    [
        # the HTML standard's examples
        ("data: YHOO\ndata: +2\ndata: 10\n\n", [("message", "YHOO\n+2\n10", "")]),
        (
            ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
            [("message", "first event", "1"), ("message", "second event", "")],
        ),
        ("data\n\ndata\ndata\n\ndata:", [("message", "", ""), ("message", "\n", "")]),
        ("data:test\n\ndata: test\n\n", [("message", "test", ""), ("message", "test", "")]),
    ],
)
def test_standard_examples(stream, expected):
    """
    The examples of the HTML standard give the events it says.
    """
    assert events(parse([stream])) == expected


def test_last_event_id_survives_reset():
    """
    The last event id outlives a reconnection (L{Parser.reset}); a partial
    event does not.
    """
    parser = Parser()
    parser.feed("id: 7\ndata: a\n\ndata: partial")
    parser.reset()
    assert parser.feed("data: b\n\n") == [("event", "message", "b", "7")]
