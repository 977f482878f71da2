"""
Tests for the sans-I/O socket.io core, L{rtproto.socketio}.
"""
