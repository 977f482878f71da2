#!/usr/bin/env python3
"""
Side-by-side WebSocket server benchmark: rtproto against peer echo servers.

Starts each server as a subprocess on 127.0.0.1 (pinned to one core), drives
it with the Node load generator C{bench/loadgen.js} (pinned to another core),
samples the server's CPU time and RSS from C{/proc}, and prints a table of
absolute numbers per server plus the ratio rtproto/peer for each metric.
The raw results go to C{bench/results/<timestamp>.json} (and a copy of the
table to C{<timestamp>.md}).

Every run is bounded in time and message count, uses loopback only, and every
process it starts is ended by its PID.  Each (metric, server) pair gets a
freshly started server.

Usage::

    python bench/run.py [--only small,large,handshake,idle,broadcast]
                        [--servers rtproto,autobahn,twisted-web,websockets,aiohttp]
                        [--duration S] [--warmup S] [--repeat N]

Standard library only; see C{bench/README.md} for what each metric means.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LOADGEN = os.path.join(BENCH, "loadgen.js")
RESULTS = os.path.join(BENCH, "results")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------- servers


def rtprotoCommand(python, port):
    """
    rtproto's own plugin, run in the foreground with C{python -m twisted}
    (the C{twist} runner: it never daemonizes, and takes no C{-n}).
    Info-level log lines are suppressed with C{--log-level=warn}, as the
    peers write no access log either.  Frame and message size limits are
    lifted, as on the peers (the 16 MiB test sends one 16 MiB frame).
    """
    return [
        python, "-m", "twisted", "--log-level=warn", "rtproto",
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",
        "--ws", "/ws=echo",
        "--ws", "/broadcast=bench.rtproto_handlers.BroadcastHandler",
        "--max-message-size", "0",
        "--max-frame-size", "0",
        "--no-compression",
    ]


def peerCommand(script):
    def command(python, port):
        return [python, os.path.join(BENCH, "servers", script), "--port", str(port)]

    command.__doc__ = f"bench/servers/{script}"
    return command


SERVERS = {
    "rtproto": rtprotoCommand,
    "autobahn": peerCommand("autobahn_server.py"),
    "twisted-web": peerCommand("twisted_web_server.py"),
    "websockets": peerCommand("websockets_server.py"),
    "aiohttp": peerCommand("aiohttp_server.py"),
}
REFERENCE = "rtproto"


# --------------------------------------------------------------- metrics


class Metric:
    """
    One measurement: load generator arguments and how to read its result.
    """

    def __init__(self, key, group, label, unit, loadgenArgs, higherIsBetter=True):
        self.key = key
        self.group = group
        self.label = label
        self.unit = unit
        self.loadgenArgs = loadgenArgs
        self.higherIsBetter = higherIsBetter


def metrics(options):
    d, w = options.duration, options.warmup
    common = ["--warmup", str(w), "--duration", str(d)]
    return [
        Metric(
            "small", "small",
            f"small echo: 64 B text, {options.small_conns} conns x 8 in flight",
            "msg/s",
            ["--mode", "small", "--path", "/ws", "--conns", str(options.small_conns),
             "--inflight", "8", "--size", "64"] + common,
        ),
        Metric(
            "large1m", "large",
            f"1 MiB binary echo, {options.large_conns[0]} conns, sequential round trips",
            "MiB/s",
            ["--mode", "large", "--path", "/ws", "--conns", str(options.large_conns[0]),
             "--size", str(1 << 20), "--max-messages", "20000"] + common,
        ),
        Metric(
            "large16m", "large",
            f"16 MiB binary echo, {options.large_conns[1]} conns, sequential round trips",
            "MiB/s",
            ["--mode", "large", "--path", "/ws", "--conns", str(options.large_conns[1]),
             "--size", str(16 << 20), "--max-messages", "1000"] + common,
        ),
        Metric(
            "handshake", "handshake",
            f"handshakes (connect, upgrade, close), {options.handshake_concurrency} concurrent",
            "conn/s",
            ["--mode", "handshake", "--path", "/ws", "--concurrency",
             str(options.handshake_concurrency)] + common,
        ),
        Metric(
            "idle", "idle", f"RSS per idle connection ({options.idle_conns} open)",
            "KiB/conn",
            ["--mode", "idle", "--path", "/ws", "--conns", str(options.idle_conns),
             "--open-concurrency", "200"],
            higherIsBetter=False,
        ),
        Metric(
            "broadcast", "broadcast",
            f"broadcast to {options.broadcast_conns} conns (64 B text, 8 in flight)",
            "deliveries/s",
            ["--mode", "broadcast", "--path", "/broadcast", "--conns",
             str(options.broadcast_conns), "--size", "64", "--window", "8"] + common,
        ),
    ]


# --------------------------------------------------------------- /proc


def cpuSeconds(pid):
    """
    User + system CPU seconds used so far by C{pid}.
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def coreBusy(core):
    """
    Busy and total jiffies of one CPU (or of all with C{core=None}), from
    C{/proc/stat}: everything but idle and iowait counts as busy.
    """
    name = "cpu" if core is None else f"cpu{core}"
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields[0] == name:
                values = [int(v) for v in fields[1:]]
                idle = values[3] + values[4]
                total = sum(values[:8])
                return total - idle, total
    return 0, 0


def busyFraction(before, after):
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else None


def rssBytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def raiseFileLimit():
    """
    Run in the child before exec: allow as many descriptors as permitted.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pinned(core, argv, options):
    if options.no_pin or core is None:
        return argv
    return ["taskset", "-c", str(core)] + argv


# --------------------------------------------------------------- processes


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wsProbe(port, path, timeout=2.0):
    """
    One opening handshake to C{path} with plain sockets; True on a 101.
    """
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
            ok = data.startswith(b"HTTP/1.1 101")
            if ok:
                # Masked close frame, code 1000, zero mask key.
                s.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")
            return ok
    except OSError:
        return False


class ServerProcess:
    """
    A server under test, started pinned, stopped by its PID.
    """

    def __init__(self, name, options, logPath, profilePath=None):
        self.name = name
        self.port = freePort()
        argv = self.command(name, options)
        if profilePath and argv[1:3] == ["-m", "twisted"]:
            argv = [argv[0], os.path.join(BENCH, "profile_twist.py"), profilePath] + argv[3:]
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        self.log = open(logPath, "ab")
        self.log.write(f"\n=== {name} port {self.port}: {' '.join(argv)}\n".encode())
        self.log.flush()
        self.logPath = logPath
        self.proc = subprocess.Popen(
            pinned(options.server_core, argv, options),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=raiseFileLimit,
            start_new_session=True,
        )
        self.pid = self.proc.pid

    def command(self, name, options):
        """
        The server's argv.
        """
        return SERVERS[name](options.python, self.port)

    def ready(self):
        """
        Whether the server answers what the benchmark will ask of it.
        """
        return wsProbe(self.port, "/ws") and wsProbe(self.port, "/broadcast")

    def waitReady(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; "
                    f"see {self.logPath}: {self.logTail()}"
                )
            if self.ready():
                time.sleep(0.3)
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not answering a handshake after {timeout}s")

    def logTail(self, lines=5):
        try:
            with open(self.logPath, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            return " | ".join(text.strip().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def runLoadgen(metric, server, options, timeout):
    """
    Run the load generator against C{server}; react to its phase events;
    return its result dict with server-side samples added.
    """
    argv = pinned(
        options.loadgen_core,
        [options.node, LOADGEN, "--port", str(server.port)] + metric.loadgenArgs,
        options,
    )
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=raiseFileLimit,
        start_new_session=True,
    )
    pid = server.pid
    cores = [] if options.no_pin else [options.server_core, options.loadgen_core]
    samples = {}
    result = None
    buffer = b""
    deadline = time.monotonic() + timeout
    try:
        while result is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"load generator timed out after {timeout}s")
            ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 1.0))
            if not ready:
                if proc.poll() is not None and not buffer:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                event = json.loads(line)
                kind = event.get("event")
                if kind == "window_start":
                    samples["cpu0"] = cpuSeconds(pid)
                    samples["t0"] = time.monotonic()
                    samples["cores0"] = [coreBusy(c) for c in cores]
                    samples["all0"] = coreBusy(None)
                elif kind == "window_end":
                    samples["cpu1"] = cpuSeconds(pid)
                    samples["t1"] = time.monotonic()
                    samples["cores1"] = [coreBusy(c) for c in cores]
                    samples["all1"] = coreBusy(None)
                elif kind == "warm":
                    time.sleep(options.settle)
                    samples["rssBefore"] = rssBytes(pid)
                    proc.stdin.write(b"go\n")
                    proc.stdin.flush()
                elif kind == "ready":
                    time.sleep(options.settle)
                    samples["rssAfter"] = rssBytes(pid)
                    samples["open"] = event["open"]
                    samples["serverAlive"] = server.proc.poll() is None
                    proc.stdin.write(b"close\n")
                    proc.stdin.flush()
                elif kind == "result":
                    result = event
        if result is None:
            err = proc.stderr.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"load generator ended without a result: {err}")
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        raise
    finally:
        if proc.poll() is None:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    if "cpu1" in samples:
        result["serverCpu"] = (samples["cpu1"] - samples["cpu0"]) / (
            samples["t1"] - samples["t0"]
        )
        if cores:
            result["serverCoreBusy"], result["loadgenCoreBusy"] = [
                busyFraction(a, b) for a, b in zip(samples["cores0"], samples["cores1"])
            ]
        # CPU (in cores) used during the window by anything but the server
        # and the load generator: the kernel's share of the traffic, and
        # any other process on the machine.
        machine = busyFraction(samples["all0"], samples["all1"])
        if machine is not None and "loadgenCpu" in result:
            result["otherCpu"] = (
                machine * (os.cpu_count() or 1) - result["serverCpu"] - result["loadgenCpu"]
            )
    if "rssAfter" in samples:
        opened = samples["open"]
        result["rssBeforeMiB"] = samples["rssBefore"] / 2**20
        result["rssAfterMiB"] = samples["rssAfter"] / 2**20
        result["value"] = (
            (samples["rssAfter"] - samples["rssBefore"]) / opened / 1024 if opened else None
        )
        result["unit"] = "KiB/conn"
    return result


def waitQuiet(options):
    """
    Wait (at most C{--wait-quiet} seconds) until the machine is less than
    C{--quiet-threshold} busy over one second; return the last reading.
    """
    deadline = time.monotonic() + options.wait_quiet
    announced = False
    while True:
        before = coreBusy(None)
        time.sleep(1.0)
        busy = busyFraction(before, coreBusy(None)) or 0.0
        if busy < options.quiet_threshold or time.monotonic() >= deadline:
            return busy
        if not announced:
            print(f"  machine {busy:.0%} busy: waiting for it to quiet down", flush=True)
            announced = True


def measure(metric, name, options, logPath, profilePath=None):
    """
    One fresh server, one load generator run; returns a result dict (with
    C{"error"} on failure).
    """
    server = None
    background = waitQuiet(options)
    try:
        server = ServerProcess(name, options, logPath, profilePath)
        server.waitReady()
        timeout = options.warmup + options.duration + 120
        result = runLoadgen(metric, server, options, timeout)
        if server.proc.poll() is not None:
            result["error"] = f"server exited ({server.proc.returncode}) during the run"
        result["backgroundBefore"] = background
        return result
    except Exception as e:  # reported per cell, the run goes on
        return {"value": None, "error": str(e)}
    finally:
        if server is not None:
            server.stop()


# --------------------------------------------------------------- report


def fmt(value):
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def notesFor(result):
    """
    Flags telling whether a number measures the server.
    """
    notes = []
    if result.get("error"):
        notes.append("error: " + result["error"].splitlines()[0][:120])
    if result.get("loadgenCpu", 0) > 0.9:
        notes.append(f"load generator busy ({result['loadgenCpu']:.0%} CPU)")
    cpu = result.get("serverCpu")
    if cpu is not None and cpu < 0.8:
        notes.append(f"server process at {cpu:.0%} CPU")
    background = result.get("backgroundBefore")
    if background is not None and background >= 0.1:
        notes.append(f"machine {background:.0%} busy just before the run")
    other = result.get("otherCpu")
    if other is not None and other > 0.35:
        notes.append(f"{other:.2f} cores used by the kernel or other processes in the window")
    for key in ("mismatches", "closedEarly", "undelivered", "bad"):
        if result.get(key):
            notes.append(f"{key}={result[key]}")
    if result.get("stalled"):
        notes.append("stalled")
    if result.get("errors"):
        notes.append("errors=" + json.dumps(result["errors"])[:160])
    if "open" in result and "rssAfterMiB" in result:
        notes.append(
            f"{result['open']} open, RSS {result['rssBeforeMiB']:.1f} -> "
            f"{result['rssAfterMiB']:.1f} MiB"
        )
    return notes


def table(allMetrics, servers, summary):
    peers = [s for s in servers if s != REFERENCE]
    hasRef = REFERENCE in servers
    header = ["metric", "unit"] + servers
    if hasRef:
        header += [f"{REFERENCE}/{p}" for p in peers]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|",
    ]
    for metric in allMetrics:
        if metric.key not in summary:
            continue
        row = summary[metric.key]
        unit = metric.unit + ("" if metric.higherIsBetter else " (lower is better)")
        cells = [metric.label, unit] + [fmt(row[s]["value"]) for s in servers]
        if hasRef:
            ref = row[REFERENCE]["value"]
            for p in peers:
                other = row[p]["value"]
                cells.append(f"{ref / other:.2f}" if ref and other else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machineInfo(options):
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = subprocess.run(
        [
            options.python, "-c",
            "import importlib.metadata as m, sys, json\n"
            "out = {'python': sys.version.split()[0]}\n"
            "for n in ('Twisted', 'autobahn', 'websockets', 'aiohttp', 'wsproto'):\n"
            "    try: out[n] = m.version(n)\n"
            "    except Exception: out[n] = None\n"
            "try:\n"
            "    import rtproto; out['rtproto'] = getattr(rtproto, '__version__', '?')\n"
            "except Exception: out['rtproto'] = None\n"
            "print(json.dumps(out))",
        ],
        capture_output=True, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")),
    )
    node = subprocess.run([options.node, "--version"], capture_output=True, text=True)
    before = coreBusy(None)
    time.sleep(1.0)
    background = busyFraction(before, coreBusy(None))
    return {
        "backgroundBusy": background,
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "node": node.stdout.strip(),
        "versions": json.loads(versions.stdout) if versions.returncode == 0 else {},
        "fileLimit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
    }


# --------------------------------------------------------------- main


def parseOptions(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side WebSocket server benchmark (rtproto vs peers)."
    )
    parser.add_argument(
        "--only", default="small,large,handshake,idle,broadcast",
        help="comma-separated metric groups or keys: small, large (large1m, "
             "large16m), handshake, idle, broadcast",
    )
    parser.add_argument(
        "--servers", default=",".join(SERVERS),
        help="comma-separated servers: " + ", ".join(SERVERS),
    )
    parser.add_argument("--duration", type=float, default=5.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before it, s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; median kept")
    parser.add_argument("--small-conns", type=int, default=100)
    parser.add_argument("--large-conns", default="4,2",
                        help="connections for the 1 MiB and the 16 MiB echo")
    parser.add_argument("--handshake-concurrency", type=int, default=50)
    parser.add_argument("--idle-conns", type=int, default=10000)
    parser.add_argument("--broadcast-conns", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=2.0,
                        help="pause before each RSS sample, s")
    parser.add_argument("--wait-quiet", type=float, default=300.0,
                        help="before each run, wait up to this many seconds for a quiet machine")
    parser.add_argument("--quiet-threshold", type=float, default=0.1,
                        help="machine busy fraction counted as quiet")
    parser.add_argument("--other-threshold", type=float, default=0.35,
                        help="cores used by anything but the server and the load "
                             "generator in a window above which the run is redone")
    parser.add_argument("--retries", type=int, default=2,
                        help="times a disturbed run is redone")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs the servers")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--loadgen-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--out", help="JSON output path (default bench/results/<time>.json)")
    parser.add_argument("--profile", action="store_true",
                        help="run rtproto under cProfile; writes <out>.<metric>.prof "
                             "(slows rtproto down: do not compare those numbers)")
    options = parser.parse_args(argv)
    options.servers = [s.strip() for s in options.servers.split(",") if s.strip()]
    options.large_conns = [int(n) for n in options.large_conns.split(",")]
    if len(options.large_conns) != 2:
        parser.error("--large-conns takes two numbers, e.g. 4,2")
    for s in options.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    return options


def disturbed(result, options):
    """
    Whether something else used the machine around this run.
    """
    return (result.get("backgroundBefore") or 0) >= options.quiet_threshold or (
        result.get("otherCpu") or 0
    ) > options.other_threshold


def terminate(signum, frame):
    """
    SIGTERM: unwind, so that every process started is stopped by its PID.
    """
    raise SystemExit(f"stopped by signal {signum}")


def main(argv=None):
    signal.signal(signal.SIGTERM, terminate)
    options = parseOptions(argv)
    wanted = {w.strip() for w in options.only.split(",") if w.strip()}
    selected = [m for m in metrics(options) if m.key in wanted or m.group in wanted]
    if not selected:
        sys.exit(f"nothing selected by --only {options.only}")
    if not options.no_pin and not shutil.which("taskset"):
        sys.exit("taskset not found (use --no-pin)")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = options.out or os.path.join(RESULTS, f"{stamp}.json")
    logPath = os.path.splitext(out)[0] + ".servers.log"
    machine = machineInfo(options)
    print(f"machine: {machine['nproc']} x {machine['cpu']}, node {machine['node']}, "
          f"versions {json.dumps(machine['versions'])}", flush=True)
    if machine["backgroundBusy"] and machine["backgroundBusy"] > 0.1:
        print(f"WARNING: the machine is {machine['backgroundBusy']:.0%} busy before the "
              "benchmark starts; other processes will skew the numbers", flush=True)

    raw = {m.key: {s: [] for s in options.servers} for m in selected}
    for r in range(options.repeat):
        order = options.servers[r % len(options.servers):] + options.servers[: r % len(options.servers)]
        for metric in selected:
            for name in order:
                profilePath = None
                if options.profile and name == REFERENCE:
                    profilePath = f"{os.path.splitext(out)[0]}.{metric.key}.{r + 1}.prof"
                for attempt in range(1 + options.retries):
                    result = measure(metric, name, options, logPath, profilePath)
                    result["attempt"] = attempt + 1
                    if (not disturbed(result, options) or result.get("error")
                            or attempt == options.retries):
                        break
                    print(f"  {metric.key} {name}: disturbed by other load, "
                          f"retrying ({'; '.join(notesFor(result))})", flush=True)
                if profilePath:
                    result["profile"] = profilePath
                raw[metric.key][name].append(result)
                extra = "; ".join(notesFor(result))
                print(f"[{r + 1}/{options.repeat}] {metric.key:10} {name:12} "
                      f"{fmt(result.get('value')):>12} {metric.unit}"
                      + (f"  ({extra})" if extra else ""), flush=True)

    summary = {}
    for metric in selected:
        summary[metric.key] = {}
        for name in options.servers:
            runs = raw[metric.key][name]
            values = [x["value"] for x in runs if x.get("value") is not None and not x.get("error")]
            summary[metric.key][name] = {
                "value": statistics.median(values) if values else None,
                "runs": len(runs),
                "notes": sorted({n for x in runs for n in notesFor(x)}),
            }
    text = table(selected, options.servers, summary)
    notes = []
    for metric in selected:
        for name in options.servers:
            for note in summary[metric.key][name]["notes"]:
                notes.append(f"- {metric.key} / {name}: {note}")
    report = text + ("\n\nNotes:\n" + "\n".join(notes) if notes else "")
    print()
    print(report)
    document = {
        "machine": machine,
        "options": {k: v for k, v in vars(options).items()},
        "metrics": {m.key: {"label": m.label, "unit": m.unit,
                            "higherIsBetter": m.higherIsBetter} for m in selected},
        "summary": summary,
        "raw": raw,
    }
    with open(out, "w") as f:
        json.dump(document, f, indent=2)
    with open(os.path.splitext(out)[0] + ".md", "w") as f:
        f.write(report + "\n")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
