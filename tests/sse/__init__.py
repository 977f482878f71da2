"""
Tests for the sans-I/O Server-Sent Events core, L{rtproto.sse}.
"""
