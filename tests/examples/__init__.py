"""Tests of the examples in C{examples/}."""
