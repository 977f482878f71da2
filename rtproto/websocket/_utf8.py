"""
Streaming UTF-8 validation for text messages (RFC 6455 section 8.1).

Text is checked as bytes arrive, even inside a frame whose end has not
arrived yet, so that an invalid sequence fails the connection at once
(close code 1007) rather than when the message is complete.
"""

import codecs

from rtproto.errors import InvalidPayload

_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


class Utf8Decoder:
    """
    Decode UTF-8 piece by piece, failing on the first byte that makes the
    input invalid.

    CPython's incremental decoder already rejects an invalid byte as soon as
    it sees it, with one exception: after C{ED} it waits for a third byte
    before rejecting a surrogate (C{ED A0..BF}).  L{decode} closes that gap.
    """

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder()

    def decode(self, data: bytes, final: bool = False) -> str:
        """
        Decode C{data}, keeping an incomplete trailing sequence for later.

        @param final: no more bytes follow; an incomplete sequence is an
            error.
        @raise InvalidPayload: the bytes so far cannot start valid UTF-8.
        """
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            raise InvalidPayload("invalid UTF-8 in text message") from None
        if not final:
            pending = self._decoder.getstate()[0]
            if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
                raise InvalidPayload("invalid UTF-8 in text message (surrogate)")
        return text
