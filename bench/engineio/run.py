#!/usr/bin/env python3
"""
Side-by-side engine.io benchmark: rtproto against python-engineio (on
aiohttp) and Node C{engine.io}, in one run, on loopback.

Each server is started in turn as a subprocess on 127.0.0.1 (pinned to one
core with C{taskset}), serving an engine.io echo at C{/engine.io/}; the
Node load generator C{bench/engineio/loadgen.js} (C{engine.io-client} v6,
protocol v4; pinned to another core) runs each scenario against it:

  - C{ws-msgs}: 100 clients on the websocket transport, 8 messages of
    32 bytes in flight each; messages echoed per second;
  - C{poll-rtt}: 50 clients on the polling transport, sequential round
    trips; round trips per second;
  - C{upgrade-storm}: 1,000 clients open with polling and upgrade to
    websocket, then exchange one message; clients per second.

Around each measured window the server's CPU time is read from C{/proc}, so
that every number says what bounded it (the server, the load generator, or
neither: latency).  The results go to
C{bench/results/engineio-<timestamp>.json} (and the table to C{.md}, the
servers' output to C{.servers.log}); the table of absolute numbers and
ratios rtproto/peer is printed at the end.

Usage::

    npm ci --prefix bench/engineio
    python bench/engineio/run.py [--servers rtproto,python-engineio,node]
                                 [--only ws-msgs,poll-rtt,upgrade-storm]
                                 [--quick] [--repeat N]

Every process started is stopped by its PID; every load loop is bounded in
count and time.  Helpers shared with the WebSocket benchmark are imported
from C{bench/run.py}.  See C{bench/engineio/README.md}.
"""

import argparse
import datetime
import http.client
import importlib.util
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
LOADGEN = os.path.join(HERE, "loadgen.js")
RESULTS = os.path.join(BENCH, "results")


def _loadWebSocketBench():
    """
    Import C{bench/run.py} under another name (this file is C{run.py} too).
    """
    spec = importlib.util.spec_from_file_location("rtproto_wsbench", os.path.join(BENCH, "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wsbench = _loadWebSocketBench()
REFERENCE = wsbench.REFERENCE  # "rtproto"
PATH = "/engine.io/"


# --------------------------------------------------------------- servers


_rtprotoHelp = None


def rtprotoHelp(python):
    """
    The text of C{python -m twisted rtproto --help} (cached), to know which
    optional flags this rtproto has.
    """
    global _rtprotoHelp
    if _rtprotoHelp is None:
        proc = subprocess.run(
            [python, "-m", "twisted", "rtproto", "--help"],
            capture_output=True, text=True, cwd=ROOT, env=serverEnv(), timeout=60,
        )
        _rtprotoHelp = proc.stdout + proc.stderr
    return _rtprotoHelp


def rtprotoCommand(options, port):
    """
    rtproto's engine.io echo, run in the foreground with C{python -m twisted}
    (C{twist}), with the settings every server of this benchmark shares.
    Flags that turn compression off are added when this rtproto has them;
    C{--rtproto-arg} adds more.
    """
    argv = [
        options.python, "-m", "twisted", "--log-level=warn", "rtproto",
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",
        "--engineio", f"{PATH}=echo",
        "--eio-ping-interval", "25",
        "--eio-ping-timeout", "20",
        "--max-http-buffer-size", "1000000",
    ]
    helpText = rtprotoHelp(options.python)
    for flag in ("--no-http-compression", "--no-compression"):
        if flag in helpText:
            argv.append(flag)
    return argv + list(options.rtproto_arg)


def pyengineioCommand(options, port):
    """
    C{servers/pyengineio_server.py}: python-engineio's AsyncServer on aiohttp.
    """
    return [options.python, os.path.join(HERE, "servers", "pyengineio_server.py"),
            "--port", str(port)]


def nodeCommand(options, port):
    """
    C{servers/node_server.js}: Node C{engine.io} v6 on a plain C{http} server.
    """
    return [options.node, os.path.join(HERE, "servers", "node_server.js"), "--port", str(port)]


def floorCommand(options, port):
    """
    C{servers/twisted_floor.py}: the least a Twisted program can do per
    client (not a peer; run it with C{--servers ...,twisted-floor}).
    """
    return [options.python, os.path.join(HERE, "servers", "twisted_floor.py"), "--port", str(port)]


SERVERS = {
    "rtproto": rtprotoCommand,
    "python-engineio": pyengineioCommand,
    "node": nodeCommand,
    "twisted-floor": floorCommand,
}


def serverEnv():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def engineioProbe(port, timeout=2.0):
    """
    One engine.io v4 polling handshake; True when the server answers with an
    open packet.  The session is closed at once (a close packet, C{1}).
    """
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", f"{PATH}?EIO=4&transport=polling")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or not body.startswith(b"0{"):
                return False
            sid = json.loads(body[1:].split(b"\x1e")[0])["sid"]
            conn.request("POST", f"{PATH}?EIO=4&transport=polling&sid={sid}", body=b"1",
                         headers={"Content-Type": "text/plain;charset=UTF-8"})
            conn.getresponse().read()
            return True
        finally:
            conn.close()
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        return False


class ServerProcess(wsbench.ServerProcess):
    """
    A server under test, started pinned to C{--server-core}, stopped by its
    PID: the WebSocket benchmark's, with engine.io servers and readiness.
    """

    def command(self, name, options):
        return SERVERS[name](options, self.port)

    def ready(self):
        return engineioProbe(self.port)


# --------------------------------------------------------------- scenarios


class Scenario(wsbench.Metric):
    """
    A load generator scenario run with one client (C{eio} or C{raw}); its
    C{group} is the scenario's name, its C{key} adds C{:raw} for the raw
    client.  C{clients} is split between the load generator processes.
    """

    def __init__(self, key, label, unit, clients, loadgenArgs, timeout, client="eio"):
        group = key
        if client != "eio":
            key = f"{key}:{client}"
            label = f"{label} [{client} client]"
        super().__init__(key, group, label, unit, loadgenArgs + ["--client", client])
        self.clients = clients
        self.timeout = timeout
        self.client = client


def scenarios(options):
    """
    Every scenario, for each client of C{--client}, engine.io-client first.
    """
    return [Scenario(*base, client=client) for client in options.client
            for base in baseScenarios(options)]


def baseScenarios(options):
    d, w = options.duration, options.warmup
    common = ["--warmup", str(w), "--duration", str(d)]
    return [
        (
            "ws-msgs",
            f"websocket echo: {options.ws_clients} clients x {options.inflight} in flight, "
            f"{options.size} B text",
            "msg/s", options.ws_clients,
            ["--scenario", "ws-msgs", "--inflight", str(options.inflight),
             "--size", str(options.size), "--concurrency", "50"] + common,
            w + d + 90,
        ),
        (
            "poll-rtt",
            f"polling round trips: {options.poll_clients} clients, sequential, "
            f"{options.size} B text",
            "rtt/s", options.poll_clients,
            ["--scenario", "poll-rtt", "--size", str(options.size), "--concurrency", "50"]
            + common + ([] if options.keepalive else ["--no-keepalive"]),
            w + d + 90,
        ),
        (
            "upgrade-storm",
            f"upgrade storm: {options.storm_clients} clients polling -> websocket + 1 echo, "
            f"{options.storm_concurrency} connecting at once",
            "clients/s", options.storm_clients,
            ["--scenario", "upgrade-storm", "--size", str(options.size),
             "--concurrency", str(options.storm_concurrency),
             "--warmup-clients", str(options.storm_warmup_clients),
             "--warmup", str(min(w, 2))]
            + ([] if options.keepalive else ["--no-keepalive"]),
            150,
        ),
    ]


def split(total, parts):
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def runLoadgens(scenario, server, options):
    """
    Run C{--loadgen-procs} load generators against C{server} at once (all
    pinned to the load generator core); sample the server around their
    windows (from the first start to the last end); return the combined
    result.
    """
    procs = []
    shares = [n for n in split(scenario.clients, options.loadgen_procs) if n > 0]
    for i, clients in enumerate(shares):
        argv = [options.node, LOADGEN, "--port", str(server.port), "--path", PATH,
                "--clients", str(clients), "--id", str(i),
                "--hard-limit", str(int(scenario.timeout))] + scenario.loadgenArgs
        procs.append(subprocess.Popen(
            wsbench.pinned(options.loadgen_core, argv, options),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=HERE, preexec_fn=wsbench.raiseFileLimit, start_new_session=True,
        ))
    cores = [] if options.no_pin else [options.server_core, options.loadgen_core]
    buffers = {p.stdout.fileno(): b"" for p in procs}
    byFd = {p.stdout.fileno(): i for i, p in enumerate(procs)}
    results = [None] * len(procs)
    started, ended = set(), set()
    samples = {}
    deadline = time.monotonic() + scenario.timeout + 30
    try:
        open_ = set(buffers)
        while open_ and any(r is None for r in results):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"load generator timed out after {scenario.timeout + 30:.0f}s")
            ready, _, _ = select.select(list(open_), [], [], min(remaining, 1.0))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_.discard(fd)
                    continue
                buffers[fd] += chunk
                while b"\n" in buffers[fd]:
                    line, buffers[fd] = buffers[fd].split(b"\n", 1)
                    event = json.loads(line)
                    kind = event.get("event")
                    i = byFd[fd]
                    if kind == "window_start":
                        if not started:
                            samples["cpu0"] = wsbench.cpuSeconds(server.pid)
                            samples["t0"] = time.monotonic()
                            samples["cores0"] = [wsbench.coreBusy(c) for c in cores]
                            samples["all0"] = wsbench.coreBusy(None)
                        started.add(i)
                    elif kind == "window_end":
                        ended.add(i)
                        if ended == set(range(len(procs))):
                            samples["cpu1"] = wsbench.cpuSeconds(server.pid)
                            samples["t1"] = time.monotonic()
                            samples["cores1"] = [wsbench.coreBusy(c) for c in cores]
                            samples["all1"] = wsbench.coreBusy(None)
                    elif kind == "result":
                        results[i] = event
    except BaseException:
        for p in procs:
            if p.poll() is None:
                p.kill()
        raise
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
        stderr = [p.stderr.read().decode("utf-8", "replace")[-1500:] for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise RuntimeError(f"load generator {missing[0]} ended without a result: {stderr[missing[0]]}")
    result = combine(scenario, results)
    if "cpu1" in samples:
        span = samples["t1"] - samples["t0"]
        result["serverCpu"] = (samples["cpu1"] - samples["cpu0"]) / span
        if cores:
            result["serverCoreBusy"], result["loadgenCoreBusy"] = [
                wsbench.busyFraction(a, b) for a, b in zip(samples["cores0"], samples["cores1"])
            ]
        machine = wsbench.busyFraction(samples["all0"], samples["all1"])
        if machine is not None and "loadgenCpu" in result:
            result["otherCpu"] = (
                machine * (os.cpu_count() or 1) - result["serverCpu"] - result["loadgenCpu"]
            )
    return result


def combine(scenario, results):
    """
    Add up the results of several load generator processes.
    """
    if len(results) == 1:
        result = dict(results[0])
    else:
        errors = [r["error"] for r in results if r.get("error")]
        result = {
            "scenario": scenario.key,
            "parts": results,
            "loadgenCpu": sum(r.get("loadgenCpu") or 0 for r in results),
            "count": sum(r.get("count") or 0 for r in results),
            "mismatches": sum(r.get("mismatches") or 0 for r in results),
            "closedEarly": sum(r.get("closedEarly") or 0 for r in results),
        }
        if errors:
            result["error"] = errors[0]
            result["value"] = None
        elif scenario.key == "upgrade-storm":
            result["seconds"] = max(r["seconds"] for r in results)
            result["value"] = result["count"] / result["seconds"]
        else:
            result["value"] = sum(r["value"] for r in results)
    result.pop("event", None)
    result["loadgenProcs"] = len(results)
    return result


def measure(scenario, name, options, logPath, profilePath=None):
    """
    One fresh server, one scenario; a result dict (with C{"error"} on
    failure, the run goes on).
    """
    server = None
    background = wsbench.waitQuiet(options)
    try:
        if name == REFERENCE and "--engineio" not in rtprotoHelp(options.python):
            raise RuntimeError("this rtproto has no --engineio option yet")
        server = ServerProcess(name, options, logPath, profilePath)
        server.waitReady()
        result = runLoadgens(scenario, server, options)
        if server.proc.poll() is not None:
            result["error"] = f"server exited ({server.proc.returncode}) during the run"
        result["backgroundBefore"] = background
        return result
    except Exception as e:
        return {"value": None, "error": str(e), "backgroundBefore": background}
    finally:
        if server is not None:
            server.stop()


# --------------------------------------------------------------- report


def boundBy(result):
    """
    What limited one number: C{server} (its process used at least 90% of a
    core), C{loadgen} (the load generators did), both, or C{latency} (neither
    was busy: the number measures waiting, e.g. timers or round trips), or
    C{mixed} (one of them at 75-90%: bursts, or waiting on each other).
    """
    if result.get("value") is None:
        return "n/a"
    serverCpu = result.get("serverCpu") or 0
    loadgenCpu = result.get("loadgenCpu") or 0
    server, loadgen = serverCpu >= 0.9, loadgenCpu >= 0.9
    if server and loadgen:
        return "server+loadgen"
    if server:
        return "server"
    if loadgen:
        return "loadgen"
    if max(serverCpu, loadgenCpu) >= 0.75:
        return "mixed"
    return "latency"


def cpuTable(selected, servers, raw):
    """
    Per cell: server CPU / load generator CPU (in cores, median run) and
    what bounded the number.
    """
    lines = [
        "| scenario | " + " | ".join(servers) + " |",
        "|---|" + "---|" * len(servers),
    ]
    for scenario in selected:
        cells = []
        for name in servers:
            runs = [r for r in raw[scenario.key][name] if r.get("value") is not None]
            if not runs:
                cells.append("n/a")
                continue
            runs.sort(key=lambda r: r["value"])
            r = runs[len(runs) // 2]
            cells.append(f"server {r.get('serverCpu', 0):.0%}, loadgen {r.get('loadgenCpu', 0):.0%}"
                         f" ({boundBy(r)})")
        lines.append(f"| {scenario.key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpuPerOperation(result):
    """
    The server's CPU time per operation (message, round trip or client) in
    microseconds: its CPU in cores over the window divided by the rate.
    This is what the server spends on the work, whoever bounded the rate.
    """
    if result.get("value") in (None, 0) or result.get("error") or "serverCpu" not in result:
        return None
    return result["serverCpu"] / result["value"] * 1e6


def cpuPerOperationTable(selected, servers, raw):
    """
    Per cell: the median server CPU per operation (µs), then how many times
    as much each peer spends as rtproto.
    """
    peers = [name for name in servers if name != REFERENCE]
    lines = [
        "| scenario | " + " | ".join(f"{name} µs/op" for name in servers)
        + "".join(f" | {name} / rtproto" for name in peers if REFERENCE in servers) + " |",
        "|---|" + "---|" * (len(servers) + (len(peers) if REFERENCE in servers else 0)),
    ]
    for scenario in selected:
        medians = {}
        for name in servers:
            values = [v for v in map(cpuPerOperation, raw[scenario.key][name]) if v is not None]
            medians[name] = statistics.median(values) if values else None
        cells = [f"{medians[n]:.1f}" if medians[n] is not None else "n/a" for n in servers]
        if REFERENCE in servers:
            for name in peers:
                ours, theirs = medians[REFERENCE], medians[name]
                cells.append(f"{theirs / ours:.2f}x" if ours and theirs else "n/a")
        lines.append(f"| {scenario.key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notesFor(result):
    notes = wsbench.notesFor(result)
    if result.get("loadgenProcs", 1) > 1:
        notes.append(f"{result['loadgenProcs']} load generator processes")
    return notes


def machineInfo(options):
    """
    Machine, interpreter, package and npm versions for the JSON.
    """
    info = wsbench.machineInfo(options)
    versions = subprocess.run(
        [
            options.python, "-c",
            "import importlib.metadata as m, json\n"
            "out = {}\n"
            "for n in ('python-engineio', 'aiohttp', 'Twisted'):\n"
            "    try: out[n] = m.version(n)\n"
            "    except Exception: out[n] = None\n"
            "print(json.dumps(out))",
        ],
        capture_output=True, text=True,
    )
    if versions.returncode == 0:
        info["versions"].update(json.loads(versions.stdout))
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "rtproto"],
                           capture_output=True, text=True)
    info["rtprotoCommit"] = git.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    for package in ("engine.io", "engine.io-client", "ws"):
        try:
            with open(os.path.join(HERE, "node_modules", package, "package.json")) as f:
                info["versions"]["npm " + package] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            info["versions"]["npm " + package] = None
    return info


# --------------------------------------------------------------- main


def parseOptions(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side engine.io benchmark (rtproto vs python-engineio and Node engine.io)."
    )
    parser.add_argument("--servers", default="rtproto,python-engineio,node",
                        help="comma-separated servers: " + ", ".join(SERVERS)
                        + " (twisted-floor: the least Twisted itself costs, not a peer)")
    parser.add_argument("--only", default="ws-msgs,poll-rtt,upgrade-storm",
                        help="comma-separated scenarios: ws-msgs, poll-rtt, upgrade-storm")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 s warm-up, 2 s windows, a 200-client storm")
    parser.add_argument("--duration", type=float, default=5.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before it, s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; median kept")
    parser.add_argument("--ws-clients", type=int, default=100)
    parser.add_argument("--inflight", type=int, default=8)
    parser.add_argument("--size", type=int, default=32, help="message size, characters")
    parser.add_argument("--poll-clients", type=int, default=50)
    parser.add_argument("--storm-clients", type=int, default=1000)
    parser.add_argument("--storm-concurrency", type=int, default=250,
                        help="storm clients connecting at once (at 100, Node engine.io's "
                             "100 ms upgrade check bounds the rate)")
    parser.add_argument("--storm-warmup-clients", type=int, default=100)
    parser.add_argument("--no-keepalive", dest="keepalive", action="store_false",
                        help="polling without a keep-alive agent (a TCP connection per request)")
    parser.add_argument("--client", default="eio,raw",
                        help="load generator clients, comma-separated: eio (engine.io-client, "
                             "the headline numbers) and raw (bench/engineio/rawclient.js, a "
                             "minimal client that shows what the server can do when "
                             "engine.io-client is the bottleneck)")
    parser.add_argument("--loadgen-procs", type=int, default=1,
                        help="load generator processes (all on the load generator core)")
    parser.add_argument("--rtproto-arg", action="append", default=[],
                        help="extra argument for the rtproto server (repeatable)")
    parser.add_argument("--wait-quiet", type=float, default=300.0,
                        help="before each run, wait up to this many seconds for a quiet machine")
    parser.add_argument("--quiet-threshold", type=float, default=0.1)
    parser.add_argument("--other-threshold", type=float, default=0.35,
                        help="cores used by anything but the server and the load generator "
                             "in a window above which the run is redone")
    parser.add_argument("--retries", type=int, default=2, help="times a disturbed run is redone")
    parser.add_argument("--python", default=sys.executable, help="interpreter running the servers")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--loadgen-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--out", help="JSON output path (default bench/results/engineio-<time>.json)")
    parser.add_argument("--profile", action="store_true",
                        help="run rtproto under cProfile (bench/profile_twist.py); writes "
                             "<out>.<scenario>.<n>.prof; those numbers are not comparable")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.warmup = 2.0, 1.0
        options.storm_clients = min(options.storm_clients, 200)
        options.storm_warmup_clients = min(options.storm_warmup_clients, 20)
        options.wait_quiet = min(options.wait_quiet, 30.0)
        options.retries = 0
    options.servers = [s.strip() for s in options.servers.split(",") if s.strip()]
    options.client = [c.strip() for c in options.client.split(",") if c.strip()]
    for c in options.client:
        if c not in ("eio", "raw"):
            parser.error(f"unknown client {c!r}")
    for s in options.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    if options.loadgen_procs < 1:
        parser.error("--loadgen-procs must be at least 1")
    return options


def terminate(signum, frame):
    """
    SIGTERM: unwind, so that every process started is stopped by its PID.
    """
    raise SystemExit(f"stopped by signal {signum}")


def main(argv=None):
    signal.signal(signal.SIGTERM, terminate)
    options = parseOptions(argv)
    wanted = {w.strip() for w in options.only.split(",") if w.strip()}
    selected = [s for s in scenarios(options) if s.key in wanted or s.group in wanted]
    if not selected:
        sys.exit(f"nothing selected by --only {options.only}")
    if not options.no_pin and not shutil.which("taskset"):
        sys.exit("taskset not found (use --no-pin)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "engine.io-client")):
        sys.exit("npm packages missing: run  npm ci --prefix bench/engineio")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = options.out or os.path.join(RESULTS, f"engineio-{stamp}.json")
    logPath = os.path.splitext(out)[0] + ".servers.log"
    machine = machineInfo(options)
    print(f"machine: {machine['nproc']} x {machine['cpu']}, node {machine['node']}, "
          f"rtproto {machine['rtprotoCommit']}, "
          f"versions {json.dumps(machine['versions'])}", flush=True)
    if machine["backgroundBusy"] and machine["backgroundBusy"] > 0.1:
        print(f"WARNING: the machine is {machine['backgroundBusy']:.0%} busy before the "
              "benchmark starts; other processes will skew the numbers", flush=True)

    raw = {s.key: {name: [] for name in options.servers} for s in selected}

    def save(summary=None):
        """
        Write the JSON (after every cell, so that a stopped run keeps what
        it measured).
        """
        document = {
            "machine": machine,
            "options": vars(options),
            "commands": {name: SERVERS[name](options, 0) for name in options.servers
                         if name != REFERENCE or "--engineio" in rtprotoHelp(options.python)},
            "scenarios": {s.key: {"label": s.label, "unit": s.unit, "loadgenArgs": s.loadgenArgs}
                          for s in selected},
            "summary": summary,
            "raw": raw,
        }
        with open(out, "w") as f:
            json.dump(document, f, indent=2)

    for r in range(options.repeat):
        shift = r % len(options.servers)
        order = options.servers[shift:] + options.servers[:shift]
        for scenario in selected:
            for name in order:
                profilePath = None
                if options.profile and name == REFERENCE:
                    profilePath = (f"{os.path.splitext(out)[0]}."
                                   f"{scenario.key.replace(':', '-')}.{r + 1}.prof")
                for attempt in range(1 + options.retries):
                    result = measure(scenario, name, options, logPath, profilePath)
                    result["attempt"] = attempt + 1
                    if (not wsbench.disturbed(result, options) or result.get("error")
                            or attempt == options.retries):
                        break
                    print(f"  {scenario.key} {name}: disturbed by other load, retrying "
                          f"({'; '.join(notesFor(result))})", flush=True)
                if profilePath:
                    result["profile"] = profilePath
                result["boundBy"] = boundBy(result)
                raw[scenario.key][name].append(result)
                extra = "; ".join(notesFor(result))
                print(f"[{r + 1}/{options.repeat}] {scenario.key:13} {name:15} "
                      f"{wsbench.fmt(result.get('value')):>10} {scenario.unit:9} "
                      f"server {result.get('serverCpu', 0):.0%} loadgen "
                      f"{result.get('loadgenCpu', 0):.0%} ({result['boundBy']})"
                      + (f"  [{extra}]" if extra else ""), flush=True)
                save()

    summary = {}
    for scenario in selected:
        summary[scenario.key] = {}
        for name in options.servers:
            runs = raw[scenario.key][name]
            values = [x["value"] for x in runs if x.get("value") is not None and not x.get("error")]
            summary[scenario.key][name] = {
                "value": statistics.median(values) if values else None,
                "runs": len(runs),
                "boundBy": sorted({x["boundBy"] for x in runs}),
                "notes": sorted({n for x in runs for n in notesFor(x)}),
            }
    report = wsbench.table(selected, options.servers, summary)
    report += "\n\nCPU in the window (1.0 = one core) and what bounded each number:\n\n"
    report += cpuTable(selected, options.servers, raw)
    report += ("\n\nServer CPU per operation (message, round trip or client; median), "
               "and how many times as much each peer spends:\n\n")
    report += cpuPerOperationTable(selected, options.servers, raw)
    notes = [f"- {s.key} / {name}: {note}"
             for s in selected for name in options.servers
             for note in summary[s.key][name]["notes"]]
    if notes:
        report += "\n\nNotes:\n" + "\n".join(notes)
    print()
    print(report)
    save(summary)
    with open(os.path.splitext(out)[0] + ".md", "w") as f:
        f.write(report + "\n")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
