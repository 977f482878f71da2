"""Tests of the built-in handler plugins, written with L{rtproto.testing}."""
