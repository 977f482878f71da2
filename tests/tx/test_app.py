"""
Tests for L{rtproto.tx.app.App}: in-process topics through which one
handler reaches the others.
"""

from twisted.logger import LogLevel, capturedLogs

from rtproto.tx.app import App


def test_publishToListeners():
    """
    Listeners of the topic and of every topic get C{(topic, data, event)},
    in the order they started listening; others do not.
    """
    app = App()
    seen = []
    app.listen("a", lambda *m: seen.append(("a1",) + m))
    app.listen(None, lambda *m: seen.append(("any",) + m))
    app.listen("a", lambda *m: seen.append(("a2",) + m))
    app.listen("b", lambda *m: seen.append(("b",) + m))
    assert app.listeners("a") == 3
    assert app.publish("a", "x", event="e") == 3
    assert seen == [("a1", "a", "x", "e"), ("a2", "a", "x", "e"), ("any", "a", "x", "e")]
    assert app.publish("c", "y") == 1
    assert seen[-1] == ("any", "c", "y", None)


def test_stop():
    """
    The returned callable stops one listener (the same callback listening
    twice is two listeners); calling it again is harmless, and no empty
    topic is kept.
    """
    app = App()
    seen = []
    stop1 = app.listen("a", seen.append)
    stop2 = app.listen("a", seen.append)
    stop1()
    stop1()
    assert app.listeners("a") == 1
    stop2()
    assert app.listeners("a") == 0
    assert app._listeners == {}
    assert app.publish("a", "x") == 0


def test_stopWhilePublishing():
    """
    A listener that stops another while a message is delivered does not
    upset the delivery.
    """
    app = App()
    seen = []
    stops = []
    stops.append(app.listen("a", lambda *m: stops[1]()))
    stops.append(app.listen("a", lambda *m: seen.append(m)))
    assert app.publish("a", 1) == 2
    assert app.publish("a", 2) == 1


def test_failingListener():
    """
    A listener that raises is logged once, and the others still run.
    """
    app = App()
    seen = []
    app.listen("a", lambda *m: 1 / 0)
    app.listen("a", lambda *m: seen.append(m))
    with capturedLogs() as events:
        assert app.publish("a", "x") == 2
    assert seen == [("a", "x", None)]
    [event] = [e for e in events if e["log_level"] is LogLevel.critical]
    assert event["log_failure"].check(ZeroDivisionError)
