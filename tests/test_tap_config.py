"""
C{twistd rtproto --config FILE}: the TOML file's settings, the command line
winning over them, and one clear usage error for every mistake.
"""

import textwrap

import pytest
from twisted.python import usage

from rtproto import tap
from rtproto._tapconfig import splitConfig
from rtproto.plugins.echo import EchoHandler


def parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


@pytest.fixture
def config(tmp_path):
    """
    Write a config file; return its path.
    """

    def write(text: str) -> str:
        path = tmp_path / "rtproto.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


def test_settings(config):
    """
    Lists for repeatable options, numbers, strings, and flags (false
    choosing the no- form).
    """
    path = config(
        """
        listen = ["tcp:9000:interface=127.0.0.1", "tcp:9001"]
        ws = ["/a=echo", "/b=rtproto.plugins.echo.EchoHandler"]
        ping-interval = 5
        max-message-size = 4096
        allowed-origins = "https://a.example"
        compression = false
        sio-recovery = true
        sse-publish-token = "s3cret"
        """
    )
    options = parse("--config", path)
    assert options["config"] == path
    assert options["endpoints"] == ["tcp:9000:interface=127.0.0.1:backlog=1024", "tcp:9001:backlog=1024"]
    assert options["handlers"] == [("/a", EchoHandler), ("/b", EchoHandler)]
    ws = options["options"]
    assert ws.pingInterval == 5.0
    assert ws.maxMessageSize == 4096
    assert ws.allowedOrigins == ("https://a.example",)
    assert ws.compression is False
    assert options["socketioOptions"].recovery is True
    assert options["sseOptions"].publishToken == "s3cret"


def test_tables(config):
    """
    A mount option may be a table of PATH = HANDLER.
    """
    path = config(
        """
        [ws]
        "/x" = "echo"
        [namespace]
        "/room" = "chat"
        """
    )
    options = parse(f"--config={path}")
    assert options["handlers"] == [("/x", EchoHandler)]
    assert [nsp for nsp, _ in options["namespaceHandlers"]] == ["/room"]


def test_commandLineWins(config):
    """
    An option on the command line overrides the file's; a repeatable one
    replaces the file's whole list; a flag's no- form overrides it too.
    """
    path = config(
        """
        listen = ["tcp:9000"]
        ws = ["/a=echo"]
        ping-interval = 5
        compression = true
        """
    )
    options = parse("--ping-interval", "7", "--listen", "tcp:9100", "--config", path, "--no-compression")
    assert options["endpoints"] == ["tcp:9100:backlog=1024"]
    assert options["handlers"] == [("/a", EchoHandler)]
    assert options["options"].pingInterval == 7.0
    assert options["options"].compression is False


def test_negatedFlag(config):
    """
    C{demo = false} is C{--no-demo}; C{demo = true} changes nothing.
    """
    assert parse("--config", config("demo = false\n"))["no-demo"]
    assert not parse("--config", config("demo = true\n"))["no-demo"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("nonsense = 1\n", "unknown setting 'nonsense'"),
        ("ping-interval = [1]\n", "ping-interval takes a string or a number"),
        ("compression = 1\n", "compression is a flag"),
        ("ws = 3\n", "ws takes a list of strings"),
        ("ws = [1, 2]\n", "ws takes a list of strings"),
        ("no-compression = true\n", "write compression = false"),
        ("config = 'other.toml'\n", "cannot name another"),
        ("listen = [\n", "not valid TOML"),
        ("ping-interval = -1\n", "--ping-interval takes a number of seconds"),
        ("ws = ['/x=nope']\n", "no websocket handler named 'nope'"),
    ],
)
def test_mistakes(config, text, message):
    """
    Each mistake is one usage error naming what is wrong.
    """
    with pytest.raises(usage.UsageError, match=message):
        parse("--config", config(text))


def test_missingFile(tmp_path):
    with pytest.raises(usage.UsageError, match="No such file"):
        parse("--config", str(tmp_path / "absent.toml"))


def test_configTwice(config):
    path = config("")
    with pytest.raises(usage.UsageError, match="given twice"):
        parse("--config", path, "--config", path)


def test_configWithoutFile():
    with pytest.raises(usage.UsageError, match="takes a file"):
        parse("--config")


def test_splitConfig():
    """
    Only C{--config} is taken out; what follows C{--} is left alone.
    """
    assert splitConfig(["--a", "--config", "f", "b"]) == ("f", ["--a", "b"])
    assert splitConfig(["--config=f"]) == ("f", [])
    assert splitConfig(["--", "--config", "f"]) == (None, ["--", "--config", "f"])


def test_twistdUsageError(tmp_path):
    """
    Through twistd's own option parser, a bad file is a usage error, not a
    traceback.
    """
    from twisted.scripts.twistd import ServerOptions

    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = 1\n")
    with pytest.raises(usage.UsageError, match="unknown setting"):
        ServerOptions().parseOptions(["-n", "rtproto", "--config", str(bad)])
