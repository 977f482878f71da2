"""
Interoperability tests: rtproto against real WebSocket peers (the
C{websockets} library, autobahn-python's Twisted flavour, and rtproto's own
client and server) over real loopback sockets on 127.0.0.1.

Every test is marked C{interop}; run them with
C{python -m pytest tests/interop -q}.
"""
