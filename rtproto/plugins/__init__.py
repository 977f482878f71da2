"""
Handler plugins, found with L{twisted.plugin.getPlugins}.

Like C{twisted.plugins}, this package's path takes in every
C{rtproto/plugins} folder on C{sys.path}, so a separately installed package
can ship a plugin module there (without an C{__init__.py} of its own).
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))  # type: ignore[name-defined]
__all__: "list[str]" = []
