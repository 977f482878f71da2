"""
Fixtures of the examples' loopback tests: the reactor pytest-twisted runs,
and a cleanup stack run (bounded) after each test.
"""

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.interop.support import within


@pytest.fixture
def reactor():
    """
    The reactor pytest-twisted runs (imported here, never at module level).
    """
    from twisted.internet import reactor

    return reactor


@pytest_twisted.async_yield_fixture
async def cleanup(reactor):
    """
    Register zero-argument callables (returning a Deferred, a coroutine or
    nothing) to run, last registered first, after the test.
    """
    stack = []
    yield stack.append
    errors = []
    for fn in reversed(stack):
        try:
            result = fn()
            if result is not None:
                await within(reactor, defer.ensureDeferred(result), f"cleanup {fn!r}")
        except Exception as e:
            errors.append(e)
    if errors:
        raise errors[0]
