"""
Tests for the sans-I/O engine.io core, L{rtproto.engineio}.
"""
