"""
The C{text/event-stream} format, server side: how one event, one comment or
one C{retry} hint is written, as the WHATWG HTML standard (section 9.2,
"Server-sent events") has a browser's C{EventSource} read it back.

What the reader does, and so what the writer must do:

  - Lines end with CRLF, LF or a lone CR, and nothing else; the payload is
    therefore cut into C{data:} lines on exactly those three (never with
    L{str.splitlines}, which also cuts on U+2028, U+0085, form feeds...).
    A CR or CRLF inside the payload comes back as LF: the format cannot tell
    them apart.
  - The reader appends each C{data:} value and a LF to its buffer, and drops
    one final LF when the event is dispatched; an event whose buffer is still
    empty is not dispatched.  So an empty payload is written as one C{data: }
    line (the buffer becomes C{"\\n"}, dispatched as C{""}) and a trailing
    newline as a last empty C{data: } line: every L{str} survives.
  - One space after the colon is removed; we always write exactly one, so a
    value that starts with spaces keeps them.
  - A field value cannot hold CR or LF, and an C{id} holding NUL is ignored
    by the reader: L{encodeEvent} refuses all three in C{event} and C{id}
    (L{UsageError}) rather than send something the browser would misread.
  - The stream is UTF-8, always.

Everything here is a pure function of its arguments: no I/O, no clock.
"""

from rtproto.errors import UsageError

__all__ = ["encodeComment", "encodeEvent", "encodeRetry"]


def _short(value: str) -> str:
    """
    C{value}'s repr, cut to a length fit for an error message.
    """
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _checkField(name: str, value) -> None:
    """
    Refuse a field value that is not a L{str} or that holds CR, LF or NUL.

    @raise UsageError: with what is wrong and where.
    """
    if not isinstance(value, str):
        raise UsageError(f"SSE {name} must be a str, not {type(value).__name__}")
    if "\n" in value or "\r" in value or "\0" in value:
        raise UsageError(
            f"SSE {name} must not contain CR, LF or NUL (a browser would misread the stream): {_short(value)}"
        )


def _checkRetry(retry) -> None:
    """
    Refuse a reconnection time that is not a non-negative L{int}.

    @raise UsageError: for a L{bool}, a L{float}, a negative number...
    """
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise UsageError(f"SSE retry must be a non-negative int (milliseconds), not {retry!r}")


def _lines(text: str, prefix: str) -> str:
    """
    C{text} as one C{prefix} line per line, each ended by LF, cutting only
    on CRLF, LF and CR.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text:
        text = text.replace("\n", "\n" + prefix)
    return prefix + text + "\n"


def _utf8(text: str, what: str) -> bytes:
    """
    C{text} in UTF-8.

    @raise UsageError: C{text} holds a lone surrogate, which no UTF-8 stream
        can carry.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise UsageError(f"SSE {what} is not valid Unicode (a lone surrogate at {e.start})") from None


def encodeEvent(
    data: str,
    event: "str | None" = None,
    id: "str | None" = None,  # the field's name in the standard
    retry: "int | None" = None,
) -> bytes:
    """
    Write one event: C{id:}, C{event:}, C{retry:} (each only if given), one
    C{data:} line per line of C{data}, then the blank line that dispatches
    it.

    @param data: the payload; any L{str}, empty or multi-line.  A browser
        gets it back exactly, except that CR and CRLF become LF.
    @param event: the event type (C{addEventListener(event, ...)}); L{None}
        or C{""} for the default type, C{message} (nothing is written).
    @param id: the event id, which the browser sends back as
        C{Last-Event-ID} when it reconnects.  C{""} is written (it clears
        the browser's last event id); L{None} writes nothing (the browser
        keeps the id it had).
    @param retry: the reconnection time the browser should use from now on,
        in milliseconds.

    @raise UsageError: C{data} is not a L{str}; C{event} or C{id} is not a
        L{str} or holds CR, LF or NUL; C{retry} is not a non-negative
        L{int}; a lone surrogate anywhere.
    """
    if not isinstance(data, str):
        raise UsageError(f"SSE data must be a str, not {type(data).__name__}")
    head = ""
    if id is not None:
        _checkField("id", id)
        head = "id: " + id + "\n"
    if event is not None:
        _checkField("event", event)
        if event:
            head += "event: " + event + "\n"
    if retry is not None:
        _checkRetry(retry)
        head += f"retry: {retry}\n"
    return _utf8(head + _lines(data, "data: ") + "\n", "event")


def encodeComment(text: str = "") -> bytes:
    """
    Write a comment: C{: text}, one comment line per line of C{text}
    (cut on CRLF, LF and CR only), then a blank line.  Browsers ignore
    comments; they keep idle connections (and the proxies on the way) from
    timing out, and get the response headers out before the first event.

    @raise UsageError: C{text} is not a L{str} or holds a lone surrogate.
    """
    if not isinstance(text, str):
        raise UsageError(f"SSE comment must be a str, not {type(text).__name__}")
    return _utf8(_lines(text, ": ") + "\n", "comment")


def encodeRetry(ms: int) -> bytes:
    """
    Write a lone C{retry: ms} field (and a blank line, which dispatches
    nothing): the reconnection time, in milliseconds, the browser should use.

    @raise UsageError: C{ms} is not a non-negative L{int}.
    """
    _checkRetry(ms)
    return b"retry: %d\n\n" % (ms,)
