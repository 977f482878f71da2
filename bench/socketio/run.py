#!/usr/bin/env python3
"""
Side-by-side socket.io benchmark: rtproto against python-socketio (on
aiohttp) and Node C{socket.io} v4, in one run, on loopback.

Each server is started in turn as a subprocess on 127.0.0.1 (pinned to one
core with C{taskset}), serving the bench app of C{bench/socketio/README.md}
at C{/socket.io/}; the Node load generator C{bench/socketio/loadgen.js}
(pinned to another core) runs each scenario against it:

  - C{fanout}: 1,000 receivers joined to room C{"bench"}; a controller
    connection emits C{"fanout"(payload)} with an ack, at most 4 outstanding,
    and the server emits C{"msg"(payload)} to the room; deliveries (C{"msg"}
    events received by all receivers) per second;
  - C{ack}: 100 clients each keeping 8 C{"echo-ack"(payload)} emits with an
    ack in flight; acks per second.

Both run with the C{raw} client (C{clients.js}: a minimal socket.io client
on a plain WebSocket, so that the load generator is not the bottleneck) and,
with C{--client raw,sio}, also with the real C{socket.io-client}.  Around
each measured window the server's CPU time is read from C{/proc} and the
load generators report theirs, so that every number says what bounded it.
Results go to C{bench/results/socketio-<timestamp>.json} (and the tables to
C{.md}, the servers' output to C{.servers.log}).

Usage::

    npm ci --prefix bench/socketio
    python bench/socketio/run.py [--servers rtproto,python-socketio,node]
                                 [--only fanout,ack] [--client raw,sio]
                                 [--quick] [--repeat N] [--loadgen-procs N]

Every process started is stopped by its PID; every load loop is bounded in
count and time.  Helpers are imported from C{bench/run.py} and
C{bench/engineio/run.py}, not copied.
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
PATH = "/socket.io/"
RTPROTO_APP = "bench.socketio.rtproto_app.BenchNamespace"


def _load(name, path):
    """
    Import a benchmark script under another name (they are all C{run.py}).
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


eiobench = _load("rtproto_eiobench", os.path.join(BENCH, "engineio", "run.py"))
wsbench = eiobench.wsbench  # bench/run.py
REFERENCE = wsbench.REFERENCE  # "rtproto"


# --------------------------------------------------------------- servers


def rtprotoCommand(options, port):
    """
    rtproto's socket.io server with the bench app (C{rtproto_app.py}), run
    in the foreground with C{python -m twisted} (C{twist}); the engine.io
    settings the other servers share are added when this rtproto's
    C{--help} lists their flags; C{--rtproto-arg} adds more.
    """
    argv = [
        options.python, "-m", "twisted", "--log-level=warn", "rtproto",
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",
        "--namespace", f"/={RTPROTO_APP}",
    ]
    helpText = eiobench.rtprotoHelp(options.python)
    for flag, value in (("--eio-ping-interval", "25"), ("--eio-ping-timeout", "20"),
                        ("--max-http-buffer-size", "1000000"),
                        ("--no-http-compression", None), ("--no-compression", None)):
        if flag in helpText:
            argv += [flag] if value is None else [flag, value]
    return argv + list(options.rtproto_arg)


def pysioCommand(options, port):
    """
    C{servers/pysio_server.py}: python-socketio's AsyncServer on aiohttp.
    """
    return [options.python, os.path.join(HERE, "servers", "pysio_server.py"), "--port", str(port)]


def nodeCommand(options, port):
    """
    C{servers/node_server.js}: Node C{socket.io} v4 on a plain C{http} server.
    """
    return [options.node, os.path.join(HERE, "servers", "node_server.js"), "--port", str(port)]


SERVERS = {"rtproto": rtprotoCommand, "python-socketio": pysioCommand, "node": nodeCommand}


def socketioProbe(port, timeout=2.0):
    """
    An engine.io v4 polling handshake, a socket.io CONNECT to C{/} and its
    answer; True when the server answers C{40{...}}.  The session is closed
    at once (engine.io close packet C{1}).
    """
    base = f"{PATH}?EIO=4&transport=polling"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", base)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or not body.startswith(b"0{"):
                return False
            sid = json.loads(body[1:].split(b"\x1e")[0])["sid"]
            url = f"{base}&sid={sid}"
            headers = {"Content-Type": "text/plain;charset=UTF-8"}
            conn.request("POST", url, body=b"40", headers=headers)
            conn.getresponse().read()
            conn.request("GET", url)
            answer = conn.getresponse().read()
            conn.request("POST", url, body=b"1", headers=headers)
            conn.getresponse().read()
            return any(p.startswith(b"40") for p in answer.split(b"\x1e"))
        finally:
            conn.close()
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        return False


def processTimes():
    """
    CPU seconds used so far by every process, from C{/proc/PID/stat}:
    C{{pid: (name, seconds)}} (kernel threads such as C{ksoftirqd} included).
    """
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.find("(") + 1:text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / wsbench.CLK_TCK)
    return out


def irqSeconds():
    """
    CPU seconds all cores spent in hard and soft interrupts (C{/proc/stat}):
    on loopback, mostly the kernel's TCP receive work.  Without IRQ time
    accounting in the kernel it is also counted in the CPU time of the
    process it interrupted (the server's or the load generator's).
    """
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[6]) + int(fields[7])) / wsbench.CLK_TCK


def busiestOthers(before, after, seconds, exclude, count=3):
    """
    The processes other than C{exclude} that used the most CPU between two
    L{processTimes} readings: C{[(name, pid, cores)]}, at least 0.05 cores.
    A process started in between counts with all its CPU time; one that
    ended in between is not seen.
    """
    used = []
    for pid, (name, t1) in after.items():
        if pid in exclude:
            continue
        cores = (t1 - before.get(pid, (name, 0.0))[1]) / seconds
        if cores >= 0.05:
            used.append((name, pid, round(cores, 2)))
    return sorted(used, key=lambda u: -u[2])[:count]


class ServerProcess(wsbench.ServerProcess):
    """
    A server under test, started pinned to C{--server-core}, stopped by its
    PID: the WebSocket benchmark's, with socket.io servers and readiness.
    """

    def command(self, name, options):
        return SERVERS[name](options, self.port)

    def ready(self):
        return socketioProbe(self.port)


# --------------------------------------------------------------- scenarios


class Scenario(wsbench.Metric):
    """
    One scenario with one client (C{raw} or C{sio}): its C{group} is the
    scenario's name, its C{key} adds C{:sio} for the real client.
    C{clients} is split between the load generator processes; the fan-out
    controller runs in the first.
    """

    def __init__(self, key, label, unit, clients, loadgenArgs, timeout, client):
        group = key
        if client != "raw":
            key, label = f"{key}:{client}", f"{label} [{client} client]"
        super().__init__(key, group, label, unit, loadgenArgs + ["--client", client])
        self.clients = clients
        self.timeout = timeout
        self.client = client


def scenarios(options):
    d, w = options.duration, options.warmup
    common = ["--warmup", str(w), "--duration", str(d), "--size", str(options.size),
              "--concurrency", str(options.concurrency)]
    timeout = w + d + 120
    base = [
        ("fanout",
         f"room fan-out to {options.fanout_clients} clients, {options.fanout_inflight} "
         f"fan-outs outstanding, {options.size} B payload",
         "deliveries/s", options.fanout_clients,
         ["--scenario", "fanout", "--inflight", str(options.fanout_inflight)] + common),
        ("ack",
         f"emit with ack: {options.ack_clients} clients x {options.inflight} in flight, "
         f"{options.size} B payload",
         "acks/s", options.ack_clients,
         ["--scenario", "ack", "--inflight", str(options.inflight)] + common),
    ]
    return [Scenario(*b, timeout, client) for client in options.client for b in base]


def runLoadgens(scenario, server, options):
    """
    Run C{--loadgen-procs} load generators against C{server} (all pinned to
    the load generator core), start their load together once all are
    connected ("go" on stdin), sample the server from the first window start
    to the last window end; return the combined result.
    """
    procs = []
    shares = [n for n in eiobench.split(scenario.clients, options.loadgen_procs) if n > 0]
    for i, clients in enumerate(shares):
        argv = [options.node, LOADGEN, "--port", str(server.port), "--path", PATH,
                "--clients", str(clients), "--id", str(i),
                "--hard-limit", str(int(scenario.timeout))] + scenario.loadgenArgs
        if i == 0 and scenario.group == "fanout":
            argv.append("--controller")
        procs.append(subprocess.Popen(
            wsbench.pinned(options.loadgen_core, argv, options),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=HERE, preexec_fn=wsbench.raiseFileLimit, start_new_session=True,
        ))
    cores = [] if options.no_pin else [options.server_core, options.loadgen_core]
    buffers = {p.stdout.fileno(): b"" for p in procs}
    byFd = {p.stdout.fileno(): i for i, p in enumerate(procs)}
    results = [None] * len(procs)
    joined, failed, started, ended = set(), set(), set(), set()
    told = False
    samples = {}

    def sample(suffix):
        samples["cpu" + suffix] = wsbench.cpuSeconds(server.pid)
        samples["t" + suffix] = time.monotonic()
        samples["cores" + suffix] = [wsbench.coreBusy(c) for c in cores]
        samples["all" + suffix] = wsbench.coreBusy(None)
        samples["procs" + suffix] = processTimes()
        samples["irq" + suffix] = irqSeconds()

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
                    kind, i = event.get("event"), byFd[fd]
                    if kind == "joined":
                        joined.add(i)
                        if event.get("failed"):
                            failed.add(i)
                    elif kind == "window_start":
                        if not started:
                            sample("0")
                        started.add(i)
                    elif kind == "window_end":
                        ended.add(i)
                        if ended == set(range(len(procs))):
                            sample("1")
                    elif kind == "result":
                        results[i] = event
            if not told and all(i in joined or results[i] for i in range(len(procs))):
                # Every process is connected (or gave up): start them together.
                told = True
                word = b"abort\n" if failed or any(results) else b"go\n"
                for i, p in enumerate(procs):
                    if i not in failed and results[i] is None and p.poll() is None:
                        try:
                            p.stdin.write(word)
                            p.stdin.flush()
                        except BrokenPipeError:
                            pass
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
            for stream in (p.stdin, p.stdout, p.stderr):
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise RuntimeError(f"load generator {missing[0]} ended without a result: {stderr[missing[0]]}")
    result = combine(scenario, results)
    if "cpu1" in samples:
        result["serverCpu"] = (samples["cpu1"] - samples["cpu0"]) / (samples["t1"] - samples["t0"])
        if cores:
            result["serverCoreBusy"], result["loadgenCoreBusy"] = [
                wsbench.busyFraction(a, b) for a, b in zip(samples["cores0"], samples["cores1"])
            ]
        mine = {server.pid, os.getpid()} | {p.pid for p in procs}
        span = samples["t1"] - samples["t0"]
        result["otherProcesses"] = busiestOthers(samples["procs0"], samples["procs1"], span, mine)
        result["irqCpu"] = (samples["irq1"] - samples["irq0"]) / span
        machine = wsbench.busyFraction(samples["all0"], samples["all1"])
        if machine is not None and "loadgenCpu" in result:
            result["otherCpu"] = (
                machine * (os.cpu_count() or 1) - result["serverCpu"] - result["loadgenCpu"]
            )
    return result


def combine(scenario, results):
    """
    Add up the results of the load generator processes; for fan-out, count
    the deliveries that never arrived (fan-outs sent x receivers - "msg"
    events received, after the receivers drained).
    """
    errors = [r["error"] for r in results if r.get("error")]
    result = dict(results[0]) if len(results) == 1 else {"parts": results}
    for key in ("loadgenCpu", "count", "bad", "closedEarly", "receivers", "receivedTotal"):
        if any(key in r for r in results):
            result[key] = sum(r.get(key) or 0 for r in results)
    result["value"] = None if errors else sum(r["value"] for r in results)
    if errors:
        result["error"] = errors[0]
    if scenario.group == "fanout" and not errors:
        first = results[0]
        seconds = first["seconds"]
        result["fanoutsPerSecond"] = result["value"] / result["receivers"] if result["receivers"] else None
        result["fanoutsSent"] = first.get("fanoutsSent")
        result["badAcks"] = first.get("badAcks")
        result["undelivered"] = first.get("fanoutsSent", 0) * result["receivers"] - result["receivedTotal"]
        result["drained"] = all(r.get("drained") for r in results)
        result["seconds"] = seconds
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
        if name == REFERENCE:
            if "--namespace" not in eiobench.rtprotoHelp(options.python):
                raise RuntimeError("this rtproto has no --namespace option yet")
            if not os.path.exists(os.path.join(HERE, "rtproto_app.py")):
                raise RuntimeError("bench/socketio/rtproto_app.py is missing")
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


def notesFor(result):
    notes = eiobench.notesFor(result)
    if result.get("badAcks"):
        notes.append(f"badAcks={result['badAcks']}")
    if (result.get("irqCpu") or 0) >= 0.2:
        notes.append(f"{result['irqCpu']:.2f} cores in kernel interrupts (loopback TCP) "
                     "in the window")
    for name, pid, cores in result.get("otherProcesses") or ():
        if cores >= 0.2:
            notes.append(f"{name} (pid {pid}) used {cores:.2f} cores in the window")
    if result.get("drained") is False:
        notes.append("receivers still receiving 10 s after the window")
    return notes


def machineInfo(options):
    """
    Machine, interpreter, package and npm versions for the JSON.
    """
    info = eiobench.machineInfo(options)
    versions = subprocess.run(
        [options.python, "-c",
         "import importlib.metadata as m, json\nout = {}\n"
         "for n in ('python-socketio', 'python-engineio', 'aiohttp', 'Twisted'):\n"
         "    try: out[n] = m.version(n)\n"
         "    except Exception: out[n] = None\n"
         "print(json.dumps(out))"],
        capture_output=True, text=True,
    )
    if versions.returncode == 0:
        info["versions"].update(json.loads(versions.stdout))
    for package in ("engine.io", "engine.io-client", "ws"):
        info["versions"].pop("npm " + package, None)
    for package in ("socket.io", "socket.io-client", "engine.io", "engine.io-client", "ws"):
        try:
            with open(os.path.join(HERE, "node_modules", package, "package.json")) as f:
                info["versions"]["npm " + package] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            info["versions"]["npm " + package] = None
    return info


# --------------------------------------------------------------- main


def parseOptions(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side socket.io benchmark (rtproto vs python-socketio and Node socket.io)."
    )
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help="comma-separated servers: " + ", ".join(SERVERS))
    parser.add_argument("--only", default="fanout,ack",
                        help="comma-separated scenarios (fanout, ack) or keys (e.g. ack:sio)")
    parser.add_argument("--client", default="raw",
                        help="load generator clients, comma-separated: raw (clients.js, a "
                             "minimal socket.io client: the headline numbers) and sio (the "
                             "real socket.io-client, which may bound the numbers itself)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 s warm-up, 2 s windows, no retries")
    parser.add_argument("--duration", type=float, default=5.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before it, s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; median kept")
    parser.add_argument("--size", type=int, default=32, help="payload size, characters")
    parser.add_argument("--fanout-clients", type=int, default=1000, help="fan-out receivers")
    parser.add_argument("--fanout-inflight", type=int, default=4,
                        help="fan-outs outstanding (ack not back or not yet delivered)")
    parser.add_argument("--ack-clients", type=int, default=100)
    parser.add_argument("--inflight", type=int, default=8, help="emits with ack in flight per client")
    parser.add_argument("--concurrency", type=int, default=50, help="clients connecting at once")
    parser.add_argument("--loadgen-procs", type=int, default=1,
                        help="load generator processes sharing the clients (all on the "
                             "load generator core unless --no-pin)")
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
    parser.add_argument("--out", help="JSON output path (default bench/results/socketio-<time>.json)")
    parser.add_argument("--profile", action="store_true",
                        help="run rtproto under cProfile (bench/profile_twist.py); writes "
                             "<out>.<scenario>.<n>.prof; those numbers are not comparable")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.warmup = 2.0, 1.0
        options.wait_quiet = min(options.wait_quiet, 30.0)
        options.retries = 0
    options.servers = [s.strip() for s in options.servers.split(",") if s.strip()]
    options.client = [c.strip() for c in options.client.split(",") if c.strip()]
    for c in options.client:
        if c not in ("raw", "sio"):
            parser.error(f"unknown client {c!r}")
    for s in options.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    if options.loadgen_procs < 1:
        parser.error("--loadgen-procs must be at least 1")
    return options


def describe(result):
    """
    The extra figures of one cell for the progress line.
    """
    if result.get("fanoutsPerSecond"):
        return f" ({result['fanoutsPerSecond']:,.0f} fan-outs/s)"
    if result.get("rttMs"):
        return f" (ack rtt p50 {result['rttMs']['p50']} ms)"
    return ""


def main(argv=None):
    signal.signal(signal.SIGTERM, eiobench.terminate)
    options = parseOptions(argv)
    wanted = {w.strip() for w in options.only.split(",") if w.strip()}
    selected = [s for s in scenarios(options) if s.key in wanted or s.group in wanted]
    if not selected:
        sys.exit(f"nothing selected by --only {options.only}")
    if not options.no_pin and not shutil.which("taskset"):
        sys.exit("taskset not found (use --no-pin)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "socket.io-client")):
        sys.exit("npm packages missing: run  npm ci --prefix bench/socketio")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = options.out or os.path.join(RESULTS, f"socketio-{stamp}.json")
    logPath = os.path.splitext(out)[0] + ".servers.log"
    machine = machineInfo(options)
    print(f"machine: {machine['nproc']} x {machine['cpu']}, node {machine['node']}, "
          f"rtproto {machine['rtprotoCommit']}, versions {json.dumps(machine['versions'])}",
          flush=True)
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
            "commands": {name: SERVERS[name](options, 0) for name in options.servers},
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
                result["boundBy"] = eiobench.boundBy(result)
                raw[scenario.key][name].append(result)
                extra = "; ".join(notesFor(result))
                print(f"[{r + 1}/{options.repeat}] {scenario.key:11} {name:15} "
                      f"{wsbench.fmt(result.get('value')):>10} {scenario.unit:12} "
                      f"server {result.get('serverCpu', 0):.0%} loadgen "
                      f"{result.get('loadgenCpu', 0):.0%} ({result['boundBy']})"
                      + describe(result) + (f"  [{extra}]" if extra else ""), flush=True)
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
    report += eiobench.cpuTable(selected, options.servers, raw)
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
