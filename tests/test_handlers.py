"""
Handler plugins: the built-in ones, one shipped by another package in its
own rtproto/plugins folder, and dotted paths.
"""

import subprocess
import sys
import textwrap


def test_thirdPartyPluginFound(tmp_path):
    """
    A package elsewhere on sys.path that ships rtproto/plugins/NAME.py (no
    __init__.py there) adds a handler that findHandler resolves by name.
    Run in a fresh interpreter so the plugin path is computed anew.
    """
    plugins = tmp_path / "rtproto" / "plugins"
    plugins.mkdir(parents=True)
    (tmp_path / "theirpkg.py").write_text(textwrap.dedent('''
        from rtproto.websocket import WebSocketHandler

        class Shout(WebSocketHandler):
            def textReceived(self, text):
                self.connection.sendText(text.upper())
    '''))
    (plugins / "shout.py").write_text(textwrap.dedent('''
        from rtproto.handlers import HandlerPlugin
        from theirpkg import Shout

        shout = HandlerPlugin("shout", "websocket", Shout, "shouts back")
    '''))
    code = textwrap.dedent('''
        import sys
        from rtproto.handlers import availablePlugins, findHandler
        names = [p.name for p in availablePlugins("websocket")]
        factory = findHandler("shout", "websocket")
        print(sorted(names), factory.__module__, factory.__name__)
    ''')
    # The repository first (as installed), the third-party folder after it.
    import rtproto

    repo = str(__import__("pathlib").Path(rtproto.__file__).resolve().parents[1])
    env = {"PYTHONPATH": f"{repo}:{tmp_path}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['chat',", "'echo',", "'shout']", "theirpkg", "Shout"]
