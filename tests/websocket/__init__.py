"""
Tests for the sans-I/O WebSocket core, L{rtproto.websocket}.
"""
