"""
Run the Autobahn testsuite (C{wstest}) against rtproto and judge its reports.

C{wstest} (PyPI C{autobahntestsuite}) runs only on Python 2.7, so it is
installed into its own prefix, C{<repo>/.wstest/}, and always run as a
subprocess.  Two modes:

  - B{server mode}: start the rtproto server (C{python -m twisted rtproto
    ...}) with an echo handler on C{/ws}, and point C{wstest -m
    fuzzingclient} at it;
  - B{client mode}: start C{wstest -m fuzzingserver} and run
    C{testee_client.py}, rtproto's WebSocket client echoing every case.

Either way the verdict comes from the C{index.json} report: every case must
have C{behavior} and C{behaviorClose} in L{PASSING}, and the report must
hold as many cases as C{wstest} announced it would run.

Every child process is started here, waited for with a deadline, and ended
by its own PID.  Ports are picked free on 127.0.0.1; readiness is observed
by connecting to the port, never by sleeping.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WSTEST_PREFIX = REPO / ".wstest"
REPORTS = REPO / "reports" / "compliance"
TESTEE_CLIENT = HERE / "testee_client.py"

WSTEST_VERSION = "25.10.1"
SETUPTOOLS_VERSION = "44.1.1"
AGENT = "rtproto"
HOST = "127.0.0.1"
PASSING = frozenset({"OK", "INFORMATIONAL"})

# The full suite of autobahntestsuite 25.10.1 has 517 cases; a full run
# announcing fewer than this means the suite itself is broken.
MIN_FULL_SUITE = 500

INSTALL_TIMEOUT = 1800.0
START_TIMEOUT = 30.0
RUN_TIMEOUT = 3600.0
STOP_TIMEOUT = 10.0

SERVER_COMMAND = (
    "{python}", "-m", "twisted", "--log-format=text", "rtproto",
    "--listen", "tcp:{port}:interface=" + HOST,
    "--ws", "/ws=echo",
    "--max-message-size", "0",
    "--max-frame-size", "0",
    "--ping-interval", "0",
)
SERVER_PATH = "/ws"
CLIENT_COMMAND = (
    "{python}", str(TESTEE_CLIENT), "--url", "{url}", "--agent", "{agent}",
)

_CASE_PATTERN = re.compile(r"^[0-9*]+(\.[0-9*]+)*$")
_ANNOUNCED = re.compile(rb"will run (\d+) test cases")


class ComplianceError(Exception):
    """
    The harness could not run the suite (as opposed to cases failing).
    """


# ---------------------------------------------------------------------------
# Installing and running wstest


def findPython27():
    """
    Find a Python 2.7 interpreter: C{$WSTEST_PYTHON27}, then pyenv's
    C{versions/2.7.*}, then C{python2.7} on C{PATH}, and as a last resort
    C{pyenv install 2.7.18}.

    @return: the interpreter's path, L{str}.
    @raise ComplianceError: if none can be found or built.
    """
    candidates = []
    if os.environ.get("WSTEST_PYTHON27"):
        candidates.append(os.environ["WSTEST_PYTHON27"])
    pyenvRoot = _pyenvRoot()
    if pyenvRoot is not None:
        versions = sorted(
            (pyenvRoot / "versions").glob("2.7.*"),
            key=lambda p: [int(x) if x.isdigit() else -1 for x in p.name.split(".")],
            reverse=True,
        )
        candidates.extend(str(v / "bin" / "python") for v in versions)
    onPath = shutil.which("python2.7")
    if onPath:
        candidates.append(onPath)
    for candidate in candidates:
        if _isPython27(candidate):
            return candidate
    if shutil.which("pyenv"):
        _check(["pyenv", "install", "--skip-existing", "2.7.18"], INSTALL_TIMEOUT)
        built = _pyenvRoot() / "versions" / "2.7.18" / "bin" / "python"
        if _isPython27(str(built)):
            return str(built)
    raise ComplianceError(
        "no Python 2.7 found for wstest: set WSTEST_PYTHON27, install one "
        "with pyenv, or put python2.7 on PATH"
    )


def _pyenvRoot():
    if not shutil.which("pyenv"):
        return None
    try:
        out = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    root = out.stdout.strip()
    return Path(root) if out.returncode == 0 and root else None


def _isPython27(python):
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, env=_python2Env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "2.7"


def _python2Env():
    """
    The environment for Python 2.7 children: nothing of ours leaks in.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _check(command, timeout, env=None):
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        raise ComplianceError(f"timed out after {timeout}s: {command}")
    if out.returncode != 0:
        raise ComplianceError(
            f"failed ({out.returncode}): {command}\n{_tail(out.stdout + out.stderr)}"
        )
    return out.stdout


@dataclass(frozen=True)
class Wstest:
    """
    An installed C{wstest}: a Python 2.7 interpreter and the site-packages
    directory holding C{autobahntestsuite}.
    """

    python: str
    sitePackages: Path

    def command(self, *args):
        """
        The command line running C{wstest} with C{args}.
        """
        boot = (
            "import site, sys; site.addsitedir(%r); sys.argv = ['wstest'] + sys.argv[1:]; "
            "from autobahntestsuite import wstest; wstest.run()" % str(self.sitePackages)
        )
        return [self.python, "-u", "-c", boot, *args]

    def env(self):
        """
        The environment to run C{wstest} in.
        """
        return _python2Env()


def ensureWstest(prefix=WSTEST_PREFIX, python27=None):
    """
    Install C{autobahntestsuite} into C{prefix} unless it is already there.

    Idempotent, and safe against concurrent callers (a lock file in
    C{prefix}); an interrupted install is wiped and redone.

    @param python27: the Python 2.7 to use; found with L{findPython27} when
        L{None}.
    @return: the L{Wstest}.
    """
    prefix = Path(prefix)
    python27 = python27 or findPython27()
    sitePackages = prefix / "lib" / "python2.7" / "site-packages"
    wstest = Wstest(python27, sitePackages)
    marker = prefix / "INSTALLED"
    expected = f"autobahntestsuite=={WSTEST_VERSION}\n"
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as lock:
        _lock(lock, INSTALL_TIMEOUT)
        if marker.exists() and marker.read_text() == expected:
            return wstest
        for child in prefix.iterdir():
            if child.name == ".lock":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        env = _python2Env()
        pip = [python27, "-m", "pip", "install", "--no-warn-script-location",
               "--prefix", str(prefix)]
        _check([*pip, f"setuptools=={SETUPTOOLS_VERSION}"], INSTALL_TIMEOUT, env)
        env["PYTHONPATH"] = str(sitePackages)
        _check([*pip, f"autobahntestsuite=={WSTEST_VERSION}"], INSTALL_TIMEOUT, env)
        version = _check(wstest.command("--autobahnversion"), 60, wstest.env())
        if WSTEST_VERSION not in version:
            raise ComplianceError(f"unexpected wstest version: {version!r}")
        marker.write_text(expected)
    return wstest


def _lock(lockFile, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(lockFile, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise ComplianceError(f"timed out waiting for {lockFile.name}")
            time.sleep(0.2)  # polling another installer's lock, bounded above


# ---------------------------------------------------------------------------
# Child processes


def freePort():
    """
    A TCP port on 127.0.0.1 that was free a moment ago.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def waitForListening(process, port, timeout):
    """
    Wait until C{port} on 127.0.0.1 accepts connections, as long as
    C{process} runs, at most C{timeout} seconds.

    @return: L{None} once it listens, or the exit code if the process
        exited first.
    @raise TimeoutError: C{timeout} passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return None
        except OSError:
            pass
        try:
            return process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not listening on {port} after {timeout}s")


class Child:
    """
    A child process whose output goes to a log file, ended by its own PID.
    """

    def __init__(self, name, command, logPath, env=None, cwd=None):
        self.name = name
        self.command = list(command)
        self.logPath = Path(logPath)
        self._log = open(self.logPath, "wb")
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, env=env, cwd=cwd,
        )

    def waitForPort(self, port, timeout=START_TIMEOUT):
        """
        Wait until C{port} accepts connections.

        @raise ComplianceError: if the process exits first or C{timeout}
            passes.
        """
        try:
            code = waitForListening(self.process, port, timeout)
        except TimeoutError:
            raise ComplianceError(
                f"{self.name} not listening on {port} after {timeout}s:\n" + self.tail()
            ) from None
        if code is not None:
            raise ComplianceError(
                f"{self.name} exited ({code}) before listening on {port}:\n" + self.tail()
            )

    def wait(self, timeout):
        """
        Wait for the process to exit by itself.

        @return: its exit code, or L{None} if it was still running after
            C{timeout} (it is then stopped).
        """
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def stop(self):
        """
        End the process (SIGTERM, then SIGKILL) if it is still running.

        @return: its exit code.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self._log.close()
        return self.process.returncode

    def output(self):
        """
        Everything the process wrote so far, L{bytes}.
        """
        return self.logPath.read_bytes()

    def tail(self, lines=30):
        """
        The last C{lines} lines of output, L{str}.
        """
        return _tail(self.output().decode("utf-8", "replace"), lines) or "(no output)"


def _tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:])


def _startListening(name, makeCommand, logPath, env, cwd, attempts=3):
    """
    Start a child that listens on a port we pick, retrying on a new port
    if it loses the race for it.

    @param makeCommand: called with the port, returns the command line.
    @return: C{(port, child)}.
    """
    for attempt in range(attempts):
        port = freePort()
        child = Child(name, makeCommand(port), logPath, env=env, cwd=cwd)
        try:
            child.waitForPort(port)
        except ComplianceError:
            exitedByItself = child.process.poll() is not None
            child.stop()
            if attempt == attempts - 1 or not exitedByItself:
                raise
        else:
            return port, child
    raise AssertionError("unreachable")


def _ourEnv():
    """
    The environment for children running our code: the repository first on
    C{PYTHONPATH}, so that rtproto and its twistd plugin are found.
    """
    env = dict(os.environ)
    paths = [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _fill(template, **values):
    return [part.format(**values) for part in template]


# ---------------------------------------------------------------------------
# Reports and verdicts


def caseKey(caseId):
    """
    Sort key for case ids such as C{"12.1.10"}.
    """
    return tuple(int(p) if p.isdigit() else 0 for p in caseId.split("."))


@dataclass(frozen=True)
class CaseResult:
    """
    One case of a C{wstest} report.
    """

    caseId: str
    behavior: str
    behaviorClose: str
    remoteCloseCode: object = None
    duration: int = 0
    result: str = ""
    resultClose: str = ""

    @property
    def passed(self):
        """
        Whether the case meets the bar.
        """
        return self.behavior in PASSING and self.behaviorClose in PASSING


@dataclass
class Verdict:
    """
    The outcome of one mode: its cases and any harness-level problems.
    """

    mode: str
    agent: str
    announced: int
    results: list
    reportDir: Path
    logs: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def failures(self):
        """
        The cases short of the bar, in case order.
        """
        return [r for r in self.results if not r.passed]

    @property
    def ok(self):
        """
        Whether every case passed and the harness saw nothing amiss.
        """
        return not self.problems and not self.failures

    def summary(self):
        """
        A human-readable account: counts, failing cases, problems, files.
        """
        passed = len(self.results) - len(self.failures)
        lines = [
            f"{self.agent} {self.mode} mode: {len(self.results)} cases reported "
            f"(wstest announced {self.announced}): {passed} passed, "
            f"{len(self.failures)} failed -> {'PASS' if self.ok else 'FAIL'}"
        ]
        if self.failures:
            lines.append(f"  {'case':<10} {'behavior':<14} {'behaviorClose':<14} result / resultClose")
            for r in self.failures:
                lines.append(
                    f"  {r.caseId:<10} {r.behavior:<14} {r.behaviorClose:<14} "
                    f"{_shorten(r.result)} / {_shorten(r.resultClose)}"
                )
        for problem in self.problems:
            lines.append(f"  problem: {problem}")
        lines.append(f"  report: {self.reportDir / 'index.html'}")
        for name, path in sorted(self.logs.items()):
            lines.append(f"  {name} log: {path}")
        return "\n".join(lines)


def _shorten(text, limit=100):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def readReport(reportDir, agent=AGENT):
    """
    Read the results for C{agent} from C{reportDir/index.json}, with each
    case's C{result}/C{resultClose} explanation from its own report file.

    @return: L{CaseResult}s in case order.
    @raise ComplianceError: if the report or the agent is missing.
    """
    index = Path(reportDir) / "index.json"
    if not index.exists():
        raise ComplianceError(f"no report at {index}")
    byAgent = json.loads(index.read_text())
    if agent not in byAgent:
        raise ComplianceError(f"no results for agent {agent!r} in {index} (has {sorted(byAgent)})")
    results = []
    for caseId, entry in byAgent[agent].items():
        detail = {}
        if entry.get("reportfile"):
            try:
                detail = json.loads((Path(reportDir) / entry["reportfile"]).read_text())
            except (OSError, ValueError):
                detail = {}
        results.append(CaseResult(
            caseId=caseId,
            behavior=entry.get("behavior", "MISSING"),
            behaviorClose=entry.get("behaviorClose", "MISSING"),
            remoteCloseCode=entry.get("remoteCloseCode"),
            duration=entry.get("duration", 0),
            result=detail.get("result", ""),
            resultClose=detail.get("resultClose", ""),
        ))
    return sorted(results, key=lambda r: caseKey(r.caseId))


def _judge(mode, agent, cases, wstestOutput, reportDir, logs, problems):
    match = _ANNOUNCED.search(wstestOutput)
    announced = int(match.group(1)) if match else 0
    if not match:
        problems.append("wstest did not announce how many cases it would run")
    try:
        results = readReport(reportDir, agent)
    except ComplianceError as e:
        problems.append(str(e))
        results = []
    if announced and len(results) != announced:
        problems.append(f"wstest announced {announced} cases but reported {len(results)}")
    if not results:
        problems.append("no cases were reported")
    if list(cases) == ["*"] and announced < MIN_FULL_SUITE:
        problems.append(f"the full suite has only {announced} cases (expected >= {MIN_FULL_SUITE})")
    return Verdict(mode, agent, announced, results, reportDir, logs, problems)


def _freshDir(path):
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def checkCases(cases):
    """
    Validate case patterns (ids such as C{"6.4.1"}, with C{*} wildcards:
    the only globbing C{wstest} understands).

    @return: the patterns as a L{list}.
    @raise ValueError: on anything else.
    """
    cases = [c for c in cases if c]
    bad = [c for c in cases if not _CASE_PATTERN.match(c)]
    if bad or not cases:
        raise ValueError(f"bad case patterns {bad or cases!r}: use ids like 1.1.1 or 6.*")
    return cases


# ---------------------------------------------------------------------------
# The two modes


def runServerMode(cases=("*",), python=sys.executable, agent=AGENT,
                  reportsDir=REPORTS, serverCommand=SERVER_COMMAND,
                  timeout=RUN_TIMEOUT, wstest=None):
    """
    Run C{wstest -m fuzzingclient} against our server.

    @param cases: case patterns to run.
    @param python: the interpreter that runs our server.
    @param serverCommand: the server's command line, each part formatted
        with C{{python}} and C{{port}}.
    @param timeout: seconds the whole run may take.
    @return: a L{Verdict}.
    """
    cases = checkCases(cases)
    wstest = wstest or ensureWstest()
    workDir = _freshDir(Path(reportsDir) / "server")
    reportDir = workDir / "report"
    logs = {"server": workDir / "server.log", "wstest": workDir / "wstest.log"}
    problems = []
    port, server = _startListening(
        "server", lambda port: _fill(serverCommand, python=python, port=port),
        logs["server"], env=_ourEnv(), cwd=REPO,
    )
    try:
        spec = {
            "outdir": str(reportDir),
            "servers": [{"agent": agent, "url": f"ws://{HOST}:{port}{SERVER_PATH}"}],
            "cases": cases,
            "exclude-cases": [],
            "exclude-agent-cases": {},
        }
        specPath = workDir / "fuzzingclient.json"
        specPath.write_text(json.dumps(spec, indent=2))
        client = Child(
            "wstest", wstest.command("-m", "fuzzingclient", "-s", str(specPath)),
            logs["wstest"], env=wstest.env(), cwd=workDir,
        )
        code = client.wait(timeout)
        client.stop()
        if code is None:
            problems.append(f"wstest fuzzingclient timed out after {timeout}s")
        elif code != 0:
            problems.append(f"wstest fuzzingclient exited with {code}:\n{client.tail()}")
    finally:
        early = server.process.poll()
        server.stop()
    if early is not None:
        problems.append(f"the server exited ({early}) during the run:\n{server.tail()}")
    return _judge("server", agent, cases, client.output(), reportDir, logs, problems)


def runClientMode(cases=("*",), python=sys.executable, agent=AGENT,
                  reportsDir=REPORTS, clientCommand=CLIENT_COMMAND,
                  timeout=RUN_TIMEOUT, wstest=None):
    """
    Run our client testee against C{wstest -m fuzzingserver}.

    @param cases: case patterns to run.
    @param python: the interpreter that runs our client testee.
    @param clientCommand: the testee's command line, each part formatted
        with C{{python}}, C{{url}} and C{{agent}}.
    @param timeout: seconds the whole run may take.
    @return: a L{Verdict}.
    """
    cases = checkCases(cases)
    wstest = wstest or ensureWstest()
    workDir = _freshDir(Path(reportsDir) / "client")
    reportDir = workDir / "report"
    specPath = workDir / "fuzzingserver.json"
    logs = {"wstest": workDir / "wstest.log", "testee": workDir / "testee.log"}
    problems = []

    def fuzzingServer(port):
        spec = {
            "url": f"ws://{HOST}:{port}",
            "outdir": str(reportDir),
            "cases": cases,
            "exclude-cases": [],
            "exclude-agent-cases": {},
        }
        specPath.write_text(json.dumps(spec, indent=2))
        return wstest.command("-m", "fuzzingserver", "-s", str(specPath), "--webport", "0")

    port, server = _startListening(
        "wstest", fuzzingServer, logs["wstest"], env=wstest.env(), cwd=workDir,
    )
    try:
        testee = Child(
            "testee",
            _fill(clientCommand, python=python, url=f"ws://{HOST}:{port}", agent=agent),
            logs["testee"], env=_ourEnv(), cwd=REPO,
        )
        code = testee.wait(timeout)
        testee.stop()
        if code is None:
            problems.append(f"client testee timed out after {timeout}s")
        elif code != 0:
            problems.append(f"client testee exited with {code}:\n{testee.tail()}")
    finally:
        early = server.process.poll()
        server.stop()
    if early is not None:
        problems.append(f"wstest fuzzingserver exited ({early}) during the run:\n{server.tail()}")
    return _judge("client", agent, cases, server.output(), reportDir, logs, problems)


# ---------------------------------------------------------------------------
# Command line


def main(argv=None):
    """
    Command-line entry point; returns the exit status.
    """
    import shlex

    parser = argparse.ArgumentParser(
        prog="python -m tests.compliance.run",
        description="Run the Autobahn testsuite against rtproto's server and/or client.",
    )
    parser.add_argument("--server", action="store_true", help="test our server (fuzzingclient)")
    parser.add_argument("--client", action="store_true", help="test our client (fuzzingserver)")
    parser.add_argument("--cases", nargs="+", default=["*"], metavar="PATTERN",
                        help="case ids or patterns with *, space- or comma-separated (default: all)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter running our code (default: this one)")
    parser.add_argument("--agent", default=AGENT, help="agent name in the reports")
    parser.add_argument("--reports-dir", type=Path, default=REPORTS,
                        help=f"where reports and logs go (default: {REPORTS})")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT,
                        help="seconds each mode may take")
    parser.add_argument("--server-command", default=None,
                        help="run this server instead of ours ({python}, {port} substituted)")
    parser.add_argument("--client-command", default=None,
                        help="run this client testee instead of ours ({python}, {url}, {agent} substituted)")
    parser.add_argument("--install-only", action="store_true",
                        help="install wstest into .wstest/ if missing, then exit")
    args = parser.parse_args(argv)
    cases = [c for arg in args.cases for c in arg.split(",")]
    try:
        cases = checkCases(cases)
    except ValueError as e:
        parser.error(str(e))
    modes = [m for m in ("server", "client") if getattr(args, m)] or ["server", "client"]

    try:
        wstest = ensureWstest()
    except ComplianceError as e:
        print(f"cannot install wstest: {e}", file=sys.stderr)
        return 2
    if args.install_only:
        return 0
    common = dict(cases=cases, python=args.python, agent=args.agent,
                  reportsDir=args.reports_dir, timeout=args.timeout, wstest=wstest)
    verdicts = []
    for mode in modes:
        started = time.monotonic()
        print(f"running {mode} mode...", flush=True)
        try:
            if mode == "server":
                extra = {"serverCommand": shlex.split(args.server_command)} if args.server_command else {}
                verdict = runServerMode(**common, **extra)
            else:
                extra = {"clientCommand": shlex.split(args.client_command)} if args.client_command else {}
                verdict = runClientMode(**common, **extra)
        except ComplianceError as e:
            print(f"{mode} mode could not run: {e}", file=sys.stderr)
            return 2
        print(verdict.summary())
        print(f"  took {time.monotonic() - started:.1f}s", flush=True)
        verdicts.append(verdict)
    return 0 if all(v.ok for v in verdicts) else 1
