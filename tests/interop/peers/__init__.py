"""
Peer programs for the interop tests.

The C{websockets} peers are asyncio programs; they run as separate
processes (C{python peers/ws_client.py ...}) so that asyncio and the
Twisted reactor of the test process never share a thread.  They report
what they saw as JSON lines on stdout.  L{payloads} is shared by the peers
and the tests so both sides build identical messages from a small JSON
description.
"""
