"""
A C{text/event-stream} reader that does what a browser's C{EventSource}
does, step by step after the WHATWG HTML standard (section 9.2.5, "Parsing
an event stream", and 9.2.6, "Interpreting an event stream"): a test oracle
for what rtproto writes, not part of rtproto.

- The bytes are decoded as UTF-8 (bad sequences become U+FFFD) and one
  leading byte order mark is dropped.
- Lines end with CRLF, LF or a lone CR, also when a CRLF is cut between two
  chunks.
- A blank line dispatches the event being built: the source's last event id
  becomes the id buffer; nothing is dispatched while the data buffer is
  empty; otherwise one final LF is dropped from the data and the event
  (type C{message} unless an C{event} field said otherwise) is dispatched.
- A line starting with C{:} is a comment (ignored by browsers; kept in
  L{EventStreamParser.comments} for the tests).  Otherwise the field name
  is what comes before the first colon (the whole line if there is none)
  and its value what follows it, less one leading space.
- C{data} appends the value and a LF to the data buffer; C{event} sets the
  type; C{id} sets the id buffer unless the value holds NUL (then the field
  is ignored); C{retry} sets the reconnection time if the value is all
  ASCII digits; other fields are ignored.
- At the end of the stream, a line without its end and an event without its
  blank line are dropped.
"""

import codecs
import re
from typing import NamedTuple

_EOL = re.compile(r"\r\n|\r|\n")


class Event(NamedTuple):
    """
    A dispatched event, as a C{MessageEvent} shows it.
    """

    type: str
    data: str
    lastEventId: str


class EventStreamParser:
    """
    An incremental C{text/event-stream} reader.

    @ivar events: every event dispatched so far.
    @ivar comments: every comment line so far, less the colon and one
        leading space.
    @ivar lastEventId: the source's last event id (sent back as
        C{Last-Event-ID} on a reconnect).
    @ivar retry: the reconnection time set by the stream, or L{None}.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._partial = ""
        self._skipLF = False
        self._data = ""
        self._type = ""
        self._idBuffer = ""
        self.lastEventId = ""
        self.retry = None
        self.events: "list[Event]" = []
        self.comments: "list[str]" = []

    def feed(self, chunk: bytes) -> "list[Event]":
        """
        Read some bytes; return the events they completed.
        """
        before = len(self.events)
        text = self._partial + self._decoder.decode(chunk)
        if self._skipLF and text:
            if text[0] == "\n":
                text = text[1:]
            self._skipLF = False
        pos = 0
        for match in _EOL.finditer(text):
            self._line(text[pos : match.start()])
            pos = match.end()
            # A CR at the very end may be the first half of a CRLF.
            self._skipLF = match.group() == "\r" and pos == len(text)
        self._partial = text[pos:]
        return self.events[before:]

    def close(self) -> None:
        """
        The stream ended: whatever is incomplete is dropped.
        """
        self._decoder.decode(b"", final=True)
        self._partial = ""
        self._data = self._type = ""

    def _line(self, line: str) -> None:
        if not line:
            self._dispatch()
        elif line[0] == ":":
            self.comments.append(line[2:] if line[1:2] == " " else line[1:])
        else:
            field, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            self._field(field, value)

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._type = value
        elif name == "data":
            self._data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                self._idBuffer = value
        elif name == "retry" and value and value.isascii() and value.isdigit():
            self.retry = int(value)

    def _dispatch(self) -> None:
        self.lastEventId = self._idBuffer
        data, self._data = self._data, ""
        eventType, self._type = self._type, ""
        if not data:
            return
        if data[-1] == "\n":
            data = data[:-1]
        self.events.append(Event(eventType or "message", data, self.lastEventId))


def parseStream(stream: bytes, chunkSize: "int | None" = None) -> EventStreamParser:
    """
    Read a whole stream (in chunks of C{chunkSize} bytes, if given) and
    return the parser, with its events, comments, last event id and retry.
    """
    parser = EventStreamParser()
    if chunkSize is None:
        parser.feed(stream)
    else:
        for i in range(0, len(stream), chunkSize):
            parser.feed(stream[i : i + chunkSize])
    parser.close()
    return parser
