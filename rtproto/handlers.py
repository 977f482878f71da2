"""
Finding handlers by name: L{HandlerPlugin} names a handler factory for the
operator (C{--ws /chat=echo}), and L{findHandler} resolves such a name,
or a dotted path to a handler class, into the factory.
"""

from twisted.plugin import IPlugin, getPlugins
from twisted.python.reflect import namedAny
from zope.interface import implementer

from rtproto.errors import UsageError
from rtproto.interfaces import IHandlerPlugin

TRANSPORTS = ("websocket", "engineio", "socketio", "sse")


@implementer(IPlugin, IHandlerPlugin)
class HandlerPlugin:
    """
    A named handler, for a plugin module in an C{rtproto/plugins} folder::

        echo = HandlerPlugin("echo", "websocket", EchoHandler, "echoes every message")
    """

    def __init__(self, name: str, transport: str, handlerFactory, description: str = "") -> None:
        if transport not in TRANSPORTS:
            raise UsageError(f"unknown transport {transport!r}; one of {', '.join(TRANSPORTS)}")
        self.name = name
        self.transport = transport
        self.handlerFactory = handlerFactory
        self.description = description

    def __repr__(self) -> str:
        return f"<HandlerPlugin {self.name!r} ({self.transport})>"


def availablePlugins(transport: "str | None" = None) -> "list[IHandlerPlugin]":
    """
    Every handler plugin installed, optionally only those for C{transport}.
    """
    import rtproto.plugins

    found = [p for p in getPlugins(IHandlerPlugin, rtproto.plugins)]
    if transport is not None:
        found = [p for p in found if p.transport == transport]
    return sorted(found, key=lambda p: p.name)


def findHandler(name: str, transport: str):
    """
    Resolve C{name} into a handler factory for C{transport}: a plugin's
    name, or a dotted path C{package.module.Name} to a callable.

    @raise UsageError: nothing by that name, with what is available.
    """
    for plugin in availablePlugins(transport):
        if plugin.name == name:
            return plugin.handlerFactory
    if "." in name:
        try:
            factory = namedAny(name)
        except Exception as e:
            raise UsageError(f"cannot import handler {name!r}: {e.__class__.__name__}: {e}") from None
        if not callable(factory):
            raise UsageError(f"handler {name!r} is not callable")
        return factory
    names = ", ".join(p.name for p in availablePlugins(transport)) or "none"
    raise UsageError(
        f"no {transport} handler named {name!r} (installed: {names}; "
        "or give a dotted path such as mypackage.handlers.MyHandler)"
    )
