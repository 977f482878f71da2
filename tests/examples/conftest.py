"""
Fixtures of the examples' loopback tests: the interop tests' reactor and
their bounded cleanup stack (pytest finds fixtures imported here).
"""

from tests.interop.conftest import cleanup, reactor

__all__ = ["cleanup", "reactor"]
