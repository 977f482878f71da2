"""
Shared machinery of the engine.io interop tests: engine.io servers in child
processes (rtproto, or the reference Node C{engine.io} server of
C{eio_server.js}), both running the command application of L{eio_app}, and
the client peers (C{eio_client.js} for the Node clients, C{eio_pyclient.py}
for python-engineio) that print their observations as one JSON line.

Everything here is synchronous and bounded: a server must accept
connections within L{START_TIMEOUT} seconds (found by polling its port, the
process being watched for an early exit), a client run is killed after
L{CLIENT_TIMEOUT}, and a server is terminated, then killed, by its own PID.

The Node peers need C{npm ci --prefix tests/interop}; without C{node} on
C{PATH} the tests that need it are skipped.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.compliance.harness import freePort, waitForListening

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLIENT_TIMEOUT = 120.0
APP = "tests.interop.eio_app.CommandHandler"
SERVER_KINDS = ("reference", "rtproto")

# The transports a client may use, by test parameter name.
TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}

# How each server names a server-side close (rtproto: IEngineIOHandler).
SERVER_CLOSE = {"rtproto": "server close", "reference": "forced close"}


@pytest.fixture(params=SERVER_KINDS)
def kind(request):
    """
    Which server: C{"reference"} (Node engine.io) or C{"rtproto"}.
    """
    return request.param


def summaries(items) -> "list[str]":
    """
    C{received?} summaries as comparable strings.
    """
    return [json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items]

CONFIGS = {
    # the defaults (pingInterval 25 s, pingTimeout 20 s, 1e6 bytes)
    "default": {},
    # 1 MiB messages, base64 on polling included, fit
    "big": {"maxHttpBufferSize": 4_000_000},
    # heartbeats every 0.2 s, 0.2 s to answer
    "heartbeat": {"pingInterval": 0.2, "pingTimeout": 0.2},
}


def nodePath() -> str:
    """
    The C{node} executable; skips the test when there is none, fails it when
    the npm packages are not installed.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (HERE / "node_modules" / "engine.io-client").is_dir():
        pytest.fail("the Node peers are not installed: run npm ci --prefix tests/interop")
    return node


def _ourEnv() -> dict:
    """
    The environment of children running our code: the repository first on
    C{PYTHONPATH}.
    """
    env = dict(os.environ)
    paths = [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class EngineIOServer:
    """
    An engine.io server running the command application, in a child process
    listening on 127.0.0.1, path C{/engine.io/}.

    @ivar kind: C{"rtproto"} or C{"reference"} (the Node engine.io server).
    """

    def __init__(
        self, kind: str, pingInterval=None, pingTimeout=None, maxHttpBufferSize=None, extra=(), logPath=None
    ) -> None:
        """
        @param logPath: where the server's output goes, kept after it stops
            (by default a temporary file, deleted when it stops).
        """
        if kind not in SERVER_KINDS:
            raise ValueError(kind)
        self.kind = kind
        self.settings = dict(pingInterval=pingInterval, pingTimeout=pingTimeout, maxHttpBufferSize=maxHttpBufferSize)
        self.extra = list(extra)
        self.logPath = logPath
        self.port: "int | None" = None
        self.process: "subprocess.Popen | None" = None
        self._log = None

    def command(self, port: int) -> "list[str]":
        """
        The command line serving on C{port}.
        """
        s = self.settings
        if self.kind == "rtproto":
            argv = [
                sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
                "--listen", f"tcp:{port}:interface={HOST}",
                "--engineio", f"/engine.io/={APP}",
            ]
            names = {
                "pingInterval": "--eio-ping-interval",
                "pingTimeout": "--eio-ping-timeout",
                "maxHttpBufferSize": "--max-http-buffer-size",
            }
        else:
            argv = [nodePath(), str(HERE / "eio_server.js"), "--port", str(port)]
            names = {
                "pingInterval": "--ping-interval",
                "pingTimeout": "--ping-timeout",
                "maxHttpBufferSize": "--max-http-buffer-size",
            }
        for key, option in names.items():
            if s[key] is not None:
                argv += [option, f"{s[key]:g}" if isinstance(s[key], float) else str(s[key])]
        return argv + self.extra

    def start(self, attempts: int = 3) -> "EngineIOServer":
        """
        Start on a free port and wait until it accepts connections,
        retrying on another port if it lost the race for one.
        """
        for attempt in range(attempts):
            port = freePort()
            self._spawn(port)
            try:
                self._waitForPort(port)
            except AssertionError:
                exitedByItself = self.process.poll() is not None
                log = self.log(lines=200)
                portTaken = "Address already in use" in log or "EADDRINUSE" in log
                self.stop()
                if attempt == attempts - 1 or not exitedByItself or not portTaken:
                    raise
            else:
                self.port = port
                return self
        raise AssertionError("unreachable")

    def _spawn(self, port: int) -> None:
        """
        Start the child process, its output going to a log file.
        """
        if self.logPath is not None:
            self._log = open(self.logPath, "wb")
        else:
            self._log = tempfile.NamedTemporaryFile(prefix=f"eio-{self.kind}-", suffix=".log", delete=False)
        cwd = REPO if self.kind == "rtproto" else HERE
        self.process = subprocess.Popen(
            self.command(port),
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            env=_ourEnv(),
        )

    def _waitForPort(self, port: int) -> None:
        """
        Wait until C{port} accepts connections (bounded); fail if the
        process exits first.
        """
        try:
            code = waitForListening(self.process, port, START_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"the {self.kind} server did not listen within {START_TIMEOUT}s:\n{self.log()}") from None
        if code is not None:
            raise AssertionError(f"the {self.kind} server exited ({code}) before listening:\n{self.log()}")

    @property
    def url(self) -> str:
        """
        The server's base URL (the engine.io path is C{/engine.io/}).
        """
        return f"http://{HOST}:{self.port}"

    def log(self, lines: int = 60) -> str:
        """
        The last C{lines} lines of the server's output.
        """
        path = self.logPath if self.logPath is not None else (self._log.name if self._log is not None else None)
        if path is None:
            return "(not started)"
        try:
            text = Path(path).read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def checkAlive(self) -> None:
        """
        Fail if the server process has exited.
        """
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the {self.kind} server died ({self.process.returncode}):\n{self.log()}")

    def stop(self) -> None:
        """
        Close its stdin (the reference server's signal to stop), terminate
        it, kill it if need be; always by its own PID.
        """
        process = self.process
        if process is not None and process.poll() is None:
            try:
                process.stdin.close()
            except OSError:
                pass
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if process is not None and process.stdin and not process.stdin.closed:
            process.stdin.close()
        if self._log is not None:
            self._log.close()
            if self.logPath is None:
                Path(self._log.name).unlink(missing_ok=True)
            self._log = None


@pytest.fixture(scope="module")
def eioServers():
    """
    A factory: C{eioServers(kind, config)} returns a started
    L{EngineIOServer} of that kind with the settings of L{CONFIGS}[config],
    shared by the tests of the module and stopped after them.
    """
    started: "dict[tuple, EngineIOServer]" = {}

    def get(kind: str, config: str = "default") -> EngineIOServer:
        """
        Start the server, or return the one already started.
        """
        key = (kind, config)
        server = started.get(key)
        if server is not None and server.process.poll() is not None:
            server.stop()
            server = None
        if server is None:
            server = EngineIOServer(kind, **CONFIGS[config])
            started[key] = server
            server.start()
        return server

    yield get
    for server in started.values():
        server.stop()


def runPeer(argv: "list[str]", server: EngineIOServer, cwd: Path = HERE, timeout: float = CLIENT_TIMEOUT) -> dict:
    """
    Run a client peer to its end and return the JSON object it printed.
    Fails the test, with the peer's stderr and the server's log, if the peer
    did not print one, stopped on an error, or overran C{timeout}.
    """
    try:
        done = subprocess.run(argv, cwd=str(cwd), capture_output=True, timeout=timeout, env=_ourEnv())
    except subprocess.TimeoutExpired as e:
        pytest.fail(
            f"{argv!r} did not finish within {timeout}s\nstdout: {e.stdout!r}\nstderr: {e.stderr!r}\n"
            f"server log:\n{server.log()}"
        )
    out = done.stdout.decode("utf-8", "replace").strip().split("\n")
    stderr = done.stderr.decode("utf-8", "replace")[-5000:]
    try:
        facts = json.loads(out[-1])
    except (IndexError, ValueError):
        pytest.fail(f"{argv!r} exited {done.returncode} without a result\nstdout: {out!r}\nstderr: {stderr}\nserver log:\n{server.log()}")
    if done.returncode != 0 or "error" in facts:
        pytest.fail(
            f"the {facts.get('scenario')} scenario stopped: {facts.get('error')}\n"
            f"observations: {shorten(facts)}\nstderr: {stderr}\nserver log:\n{server.log()}"
        )
    return facts


def runNodeClient(scenario: str, server: EngineIOServer, eio: int, transports=None, forceBase64: bool = False, timeout: float = 15.0) -> dict:
    """
    Run C{eio_client.js} (engine.io-client v6 for C{eio=4}, 3.x for
    C{eio=3}); see L{runPeer}.
    """
    argv = [nodePath(), str(HERE / "eio_client.js"), scenario, server.url, str(eio), "--timeout", str(timeout)]
    if transports is not None:
        argv += ["--transports", ",".join(transports)]
    if forceBase64:
        argv.append("--force-base64")
    return runPeer(argv, server)


def runPythonClient(scenario: str, server: EngineIOServer, transports=None, timeout: float = 15.0) -> dict:
    """
    Run C{eio_pyclient.py} (python-engineio's asyncio client, EIO4); see
    L{runPeer}.
    """
    argv = [sys.executable, str(HERE / "eio_pyclient.py"), scenario, server.url, "--timeout", str(timeout)]
    if transports is not None:
        argv += ["--transports", ",".join(transports)]
    return runPeer(argv, server)


def shorten(value, limit: int = 12):
    """
    C{value} with long lists cut to their first C{limit} items, for failure
    messages.
    """
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list) and len(value) > limit:
        return [shorten(v, limit) for v in value[:limit]] + [f"... {len(value) - limit} more"]
    if isinstance(value, list):
        return [shorten(v, limit) for v in value]
    return value


def sequenceProblems(got: list, expected: list) -> "list[str]":
    """
    What is wrong with a received sequence: lost, duplicated, unexpected
    and reordered items (empty when C{got == expected}).
    """
    if got == expected:
        return []
    problems = []
    seen = set()
    duplicates = []
    for item in got:
        if item in seen:
            duplicates.append(item)
        seen.add(item)
    wanted = set(expected)
    lost = [item for item in expected if item not in seen]
    extra = [item for item in got if item not in wanted]
    if lost:
        problems.append(f"lost {len(lost)}: {shorten(lost)}")
    if duplicates:
        problems.append(f"duplicated {len(duplicates)}: {shorten(duplicates)}")
    if extra:
        problems.append(f"unexpected {len(extra)}: {shorten(extra)}")
    if not problems:
        first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        problems.append(f"reordered from index {first}: got {got[first:first + 5]}, expected {expected[first:first + 5]}")
    return problems
