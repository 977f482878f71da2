#!/usr/bin/env python3
"""
Side-by-side Server-Sent Events benchmark: rtproto against sse-starlette
(on uvicorn) and a minimal Node C{http} SSE server, in one run, on loopback.

Each server is started in turn as a subprocess on 127.0.0.1 (pinned to one
core with C{taskset}), serving the bench app of C{bench/sse/README.md}; the
Node load generator C{bench/sse/loadgen.js} (pinned to another core) runs
each scenario against it:

  - C{fanout}: 1,000 subscribers on C{GET /events?channel=bench}; a
    publisher keeps 4 publications outstanding; deliveries (events received
    by all subscribers) per second, and publish-to-last-delivery latency
    (from sending the publish request to the moment the last subscriber has
    the event); after a drain, every subscriber must have every event;
  - C{idle-memory}: 5,000 idle subscribers; the server's RSS growth per
    subscriber (C{VmRSS} before and after).

Around each measured window the server's CPU time is read from C{/proc} and
the load generators report theirs, so that every number says what bounded
it.  Results go to C{bench/results/sse-<timestamp>.json} (and the tables to
C{.md}, the servers' output to C{.servers.log}).

Usage::

    python bench/sse/run.py [--servers rtproto,sse-starlette,node]
                            [--only fanout,idle-memory] [--client raw,eventsource]
                            [--quick] [--repeat N] [--loadgen-procs N]

(C{npm ci --prefix bench/sse} only for C{--client eventsource}.)  Every
process started is stopped by its PID; every load loop is bounded in count
and time.  Helpers are imported from C{bench/run.py},
C{bench/engineio/run.py} and C{bench/socketio/run.py}, not copied.
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
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
LOADGEN = os.path.join(HERE, "loadgen.js")
RESULTS = os.path.join(BENCH, "results")
CHANNEL = "bench"
TOKEN = "benchtoken"
MAX_IDLE_SUBSCRIBERS = 20000


def _load(name, path):
    """
    Import a benchmark script under another name (they are all C{run.py}).
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


siobench = _load("rtproto_siobench", os.path.join(BENCH, "socketio", "run.py"))
eiobench = siobench.eiobench  # bench/engineio/run.py
wsbench = siobench.wsbench  # bench/run.py
REFERENCE = wsbench.REFERENCE  # "rtproto"


# --------------------------------------------------------------- servers


def rtprotoCommand(options, port):
    """
    rtproto's SSE resource at C{/events} with its HTTP publish endpoint
    (C{POST /events/publish}, bearer token C{benchtoken}), run in the
    foreground with C{python -m twisted} (C{twist}); C{--rtproto-arg} adds
    more.
    """
    return [
        options.python, "-m", "twisted", "--log-level=warn", "rtproto",
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",
        "--sse", "/events",
        "--sse-publish-token", TOKEN,
    ] + list(options.rtproto_arg)


def starletteCommand(options, port):
    """
    C{servers/starlette_server.py}: sse-starlette's C{EventSourceResponse}
    on uvicorn; C{--starlette-arg} adds more (e.g. C{--http httptools}).
    """
    return [options.python, os.path.join(HERE, "servers", "starlette_server.py"),
            "--port", str(port)] + list(options.starlette_arg)


def nodeCommand(options, port):
    """
    C{servers/node_server.js}: a minimal SSE server on Node's C{http}.
    """
    return [options.node, os.path.join(HERE, "servers", "node_server.js"), "--port", str(port)]


class ServerSpec:
    """
    How to start a server, where to subscribe, and how to publish to it:
    C{publishFormat} C{"text"} (the body is the payload, the answer the id)
    or C{"json"} (C{{"channel", "data", "event"}} with a bearer token, the
    answer C{{"id": ...}}).
    """

    def __init__(self, command, subscribePath, publishPath, publishFormat, publishToken=""):
        self.command = command
        self.subscribePath = subscribePath
        self.publishPath = publishPath
        self.publishFormat = publishFormat
        self.publishToken = publishToken

    def loadgenArgs(self):
        args = ["--path", self.subscribePath, "--publish-path", self.publishPath,
                "--publish-format", self.publishFormat, "--publish-channel", CHANNEL]
        if self.publishToken:
            args += ["--publish-token", self.publishToken]
        return args

    def publishRequest(self, payload):
        """
        The body and headers of a publish request for C{payload}.
        """
        if self.publishFormat == "json":
            body = json.dumps({"channel": CHANNEL, "data": payload, "event": "msg"})
            headers = {"Content-Type": "application/json"}
        else:
            body, headers = payload, {"Content-Type": "text/plain; charset=utf-8"}
        if self.publishToken:
            headers["Authorization"] = f"Bearer {self.publishToken}"
        return body.encode("utf-8"), headers

    def describe(self):
        return {"subscribe": f"GET {self.subscribePath}", "publish": f"POST {self.publishPath}",
                "publishFormat": self.publishFormat}


SERVERS = {
    "rtproto": ServerSpec(rtprotoCommand, f"/events?channel={CHANNEL}", "/events/publish",
                          "json", TOKEN),
    "sse-starlette": ServerSpec(starletteCommand, f"/events?channel={CHANNEL}", "/publish", "text"),
    "node": ServerSpec(nodeCommand, f"/events?channel={CHANNEL}", "/publish", "text"),
}


def sseProbe(port, spec, timeout=2.0):
    """
    Subscribe, wait for the first block, publish C{"probe…"} and wait for it
    to arrive; True when all of that works.  The subscription is closed.
    """
    request = (f"GET {spec.subscribePath} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    marker = f"probe-{time.monotonic_ns()}"

    def readUntil(sock, data, done):
        deadline = time.monotonic() + timeout
        while not done(data):
            if time.monotonic() > deadline or len(data) > 65536:
                return None
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
        return data

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            data = readUntil(sock, b"", lambda d: b"\r\n\r\n" in d and b"\n\n" in d.split(b"\r\n\r\n", 1)[1])
            if data is None:
                return False
            head = data.split(b"\r\n\r\n", 1)[0].lower()
            if not head.startswith(b"http/1.1 200") or b"text/event-stream" not in head:
                return False
            body, headers = spec.publishRequest(marker)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                conn.request("POST", spec.publishPath, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    return False
            finally:
                conn.close()
            return readUntil(sock, data, lambda d: marker.encode() in d) is not None
    except (OSError, http.client.HTTPException):
        return False


class ServerProcess(wsbench.ServerProcess):
    """
    A server under test, started pinned to C{--server-core}, stopped by its
    PID: the WebSocket benchmark's, with SSE servers and readiness.
    """

    def command(self, name, options):
        return SERVERS[name].command(options, self.port)

    def ready(self):
        return sseProbe(self.port, SERVERS[self.name])


# --------------------------------------------------------------- scenarios


def scenarios(options):
    """
    Every scenario for each client of C{--client} (C{siobench.Scenario}:
    the key gets C{:eventsource} for that client).
    """
    d, w = options.duration, options.warmup
    out = []
    for client in options.client:
        out.append(siobench.Scenario(
            "fanout",
            f"fan-out to {options.subscribers} subscribers, {options.inflight} publications "
            f"outstanding, {options.size} B payload",
            "deliveries/s", options.subscribers,
            ["--scenario", "fanout", "--inflight", str(options.inflight), "--size", str(options.size),
             "--warmup", str(w), "--duration", str(d), "--concurrency", str(options.concurrency),
             "--drain", str(options.drain)],
            w + d + 2 * options.drain + 120, client,
        ))
        idle = siobench.Scenario(
            "idle-memory", f"RSS per idle subscriber ({options.idle_subscribers} open)",
            "KiB/subscriber", options.idle_subscribers,
            ["--scenario", "idle", "--concurrency", str(options.concurrency),
             "--warm-clients", "50"],
            120 + options.idle_subscribers // 50, client,
        )
        idle.higherIsBetter = False
        out.append(idle)
    return out


def runLoadgens(scenario, server, options):
    """
    Run C{--loadgen-procs} load generators against C{server} (all pinned to
    the load generator core) and answer their phases: for fan-out, "go" to
    all once all are subscribed, and CPU samples from the first window start
    to the last window end; for idle memory, C{VmRSS} once all are warm
    ("go") and once all are ready ("close"), each after C{--settle} seconds.
    Returns the combined result.
    """
    spec = SERVERS[server.name]
    procs = []
    shares = [n for n in eiobench.split(scenario.clients, options.loadgen_procs) if n > 0]
    for i, clients in enumerate(shares):
        argv = [options.node, LOADGEN, "--port", str(server.port), "--clients", str(clients),
                "--id", str(i), "--hard-limit", str(int(scenario.timeout))]
        argv += spec.loadgenArgs() + scenario.loadgenArgs
        if i == 0 and scenario.group == "fanout":
            argv.append("--controller")
        procs.append(subprocess.Popen(
            wsbench.pinned(options.loadgen_core, argv, options),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=HERE, preexec_fn=wsbench.raiseFileLimit, start_new_session=True,
        ))
    everyone = set(range(len(procs)))
    cores = [] if options.no_pin else [options.server_core, options.loadgen_core]
    buffers = {p.stdout.fileno(): b"" for p in procs}
    byFd = {p.stdout.fileno(): i for i, p in enumerate(procs)}
    results = [None] * len(procs)
    phases = {"joined": set(), "warm": set(), "ready": set(), "window_start": set(),
              "window_end": set()}
    failed = set()
    answered = set()
    samples = {}

    def sample(suffix):
        samples["cpu" + suffix] = wsbench.cpuSeconds(server.pid)
        samples["t" + suffix] = time.monotonic()
        samples["cores" + suffix] = [wsbench.coreBusy(c) for c in cores]
        samples["all" + suffix] = wsbench.coreBusy(None)
        samples["procs" + suffix] = siobench.processTimes()
        samples["irq" + suffix] = siobench.irqSeconds()

    def tell(word):
        for i, p in enumerate(procs):
            if i not in failed and results[i] is None and p.poll() is None:
                try:
                    p.stdin.write(word + b"\n")
                    p.stdin.flush()
                except BrokenPipeError:
                    pass

    def allIn(phase):
        # Every process reached the phase, or has already ended.
        return all(i in phases[phase] or results[i] is not None for i in everyone)

    deadline = time.monotonic() + scenario.timeout + 30
    try:
        open_ = set(buffers)
        while open_ and any(r is None for r in results):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"load generator timed out after {scenario.timeout + 30:.0f}s")
            ready, _, _ = select.select(list(open_), [], [], min(remaining, 1.0))
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    open_.discard(fd)
                    continue
                buffers[fd] += chunk
                while b"\n" in buffers[fd]:
                    line, buffers[fd] = buffers[fd].split(b"\n", 1)
                    event = json.loads(line)
                    kind, i = event.get("event"), byFd[fd]
                    if kind == "result":
                        results[i] = event
                        continue
                    if kind in phases:
                        if kind == "window_start" and not phases[kind]:
                            sample("0")
                        phases[kind].add(i)
                        if kind == "window_end" and phases[kind] == everyone:
                            sample("1")
                    if kind == "joined" and event.get("failed"):
                        failed.add(i)
                    if kind == "ready":
                        samples["open"] = samples.get("open", 0) + event.get("open", 0)
            if "joined" not in answered and phases["joined"] and allIn("joined"):
                # Every process has subscribed (or gave up): start them together.
                answered.add("joined")
                tell(b"abort" if failed or any(results) else b"go")
            if "warm" not in answered and phases["warm"] and allIn("warm"):
                answered.add("warm")
                time.sleep(options.settle)
                samples["rssBefore"] = wsbench.rssBytes(server.pid)
                tell(b"go")
            if "ready" not in answered and phases["ready"] and allIn("ready"):
                answered.add("ready")
                time.sleep(options.settle)
                samples["rssAfter"] = wsbench.rssBytes(server.pid)
                samples["serverAlive"] = server.proc.poll() is None
                tell(b"close")
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
        span = samples["t1"] - samples["t0"]
        result["serverCpu"] = (samples["cpu1"] - samples["cpu0"]) / span
        if cores:
            result["serverCoreBusy"], result["loadgenCoreBusy"] = [
                wsbench.busyFraction(a, b) for a, b in zip(samples["cores0"], samples["cores1"])
            ]
        mine = {server.pid, os.getpid()} | {p.pid for p in procs}
        result["otherProcesses"] = siobench.busiestOthers(samples["procs0"], samples["procs1"],
                                                          span, mine)
        result["irqCpu"] = (samples["irq1"] - samples["irq0"]) / span
        machine = wsbench.busyFraction(samples["all0"], samples["all1"])
        if machine is not None and "loadgenCpu" in result:
            result["otherCpu"] = (
                machine * (os.cpu_count() or 1) - result["serverCpu"] - result["loadgenCpu"]
            )
    if scenario.group == "idle-memory" and result.get("error"):
        result["value"] = None
    elif "rssAfter" in samples:
        opened = samples.get("open", 0)
        result["rssBeforeMiB"] = samples["rssBefore"] / 2**20
        result["rssAfterMiB"] = samples["rssAfter"] / 2**20
        result["open"] = opened
        result["value"] = ((samples["rssAfter"] - samples["rssBefore"]) / opened / 1024
                           if opened else None)
        result["unit"] = "KiB/subscriber"
    elif scenario.group == "idle-memory":
        result["value"] = None
        result.setdefault("error", "no RSS sample")
    return result


# --------------------------------------------------------------- combining


BULKY = ("arrivals", "lastArrival", "eventIds", "eventSeqs", "sentAt", "ackAt", "ackIds")


def percentiles(values):
    """
    Nearest-rank p50, p90, p99 and max of C{values} (milliseconds), rounded
    to microseconds; None when empty.
    """
    if not values:
        return None
    v = sorted(values)

    def at(p):
        return round(v[min(len(v) - 1, int(p * len(v)))], 3)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0), "n": len(v)}


def combine(scenario, results):
    """
    Add up the results of the load generator processes; for fan-out, check
    that every subscriber got every publication, compute publish-to-last-
    delivery latency and publish round trips for the publications sent in
    the controller's window, and compare the event ids the subscribers saw
    with the ids the publish requests were answered with.
    """
    errors = [r["error"] for r in results if r.get("error")]
    slim = [{k: v for k, v in r.items() if k not in BULKY} for r in results]
    result = dict(slim[0]) if len(slim) == 1 else {"parts": slim}
    for key in ("loadgenCpu", "count", "bad", "closedEarly", "receivers", "receivedTotal",
                "open", "stillOpen"):
        if any(key in r for r in results):
            result[key] = sum(r.get(key) or 0 for r in results)
    if scenario.group == "fanout":
        result["value"] = None if errors else sum(r["value"] for r in results)
    if errors:
        result["error"] = errors[0]
    result.pop("event", None)
    result["loadgenProcs"] = len(results)
    if scenario.group != "fanout" or errors:
        return result
    controller = results[0]
    R = result["receivers"]
    published = controller.get("published") or 0
    result["seconds"] = controller["seconds"]
    result["publicationsPerSecond"] = result["value"] / R if R else None
    for key in ("published", "publishAcked", "publishFailed", "publishAnswered", "capReached"):
        result[key] = controller.get(key)
    # Nothing lost: every subscriber has exactly one event per publication.
    counts = {}
    for r in results:
        for count, n in (r.get("counts") or {}).items():
            counts[int(count)] = counts.get(int(count), 0) + n
    result["countsHistogram"] = {str(k): counts[k] for k in sorted(counts)}
    result["undelivered"] = max(0, published * R - result["receivedTotal"])
    result["short"] = sum(n for count, n in counts.items() if count < published)
    result["extra"] = sum(n for count, n in counts.items() if count > published)
    # Latency, per stream position (every subscriber gets the same order;
    # the verifier says which publication is at each position).
    seqs = controller.get("eventSeqs") or []
    verifiers = [r.get("eventSeqs") for r in results if r.get("eventSeqs") is not None]
    result["verifiersDisagree"] = any(v != verifiers[0] for v in verifiers)
    sentAt, ackAt = controller.get("sentAt") or [], controller.get("ackAt") or []
    t0, t1 = controller["windowStart"], controller["windowEnd"]
    inWindow = [s for s in range(len(sentAt)) if t0 <= sentAt[s] < t1]
    latencies, incomplete = [], 0
    arrivalsAt = [r.get("arrivals") or [] for r in results]
    lastAt = [r.get("lastArrival") or [] for r in results]
    wanted = set(inWindow)
    for position, seq in enumerate(seqs):
        if seq not in wanted:
            continue
        total = sum(a[position] if position < len(a) else 0 for a in arrivalsAt)
        if total != R:
            incomplete += 1
            continue
        last = max(t[position] for t in lastAt if position < len(t))
        latencies.append(last - sentAt[seq])
    result["latencyMs"] = percentiles(latencies)
    result["latencyIncomplete"] = incomplete + max(0, len(wanted) - len(
        [s for s in seqs if s in wanted]))
    result["publishRttMs"] = percentiles([ackAt[s] - sentAt[s] for s in inWindow if ackAt[s]])
    result["publishedInWindow"] = len(inWindow)
    # The ids the subscribers saw are the ones the publisher was given.
    ackIds = controller.get("ackIds") or []
    mismatches = 0
    for r in results:
        for eventId, seq in zip(r.get("eventIds") or [], r.get("eventSeqs") or []):
            if 0 <= seq < len(ackIds) and ackIds[seq] is not None and ackIds[seq] != eventId:
                mismatches += 1
    result["idMismatches"] = mismatches
    return result


# --------------------------------------------------------------- measuring


def measure(scenario, name, options, logPath, profilePath=None):
    """
    One fresh server, one scenario; a result dict (with C{"error"} on
    failure, the run goes on).
    """
    server = None
    background = wsbench.waitQuiet(options)
    try:
        if name == REFERENCE and "--sse" not in eiobench.rtprotoHelp(options.python):
            raise RuntimeError("this rtproto has no --sse option yet (rtproto --help does not "
                               "list it)")
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
    notes = siobench.notesFor(result)
    for key in ("short", "extra", "idMismatches", "publishFailed", "latencyIncomplete"):
        if result.get(key):
            notes.append(f"{key}={result[key]}")
    if result.get("capReached"):
        notes.append("publication cap reached (--max-publications of loadgen.js)")
    if result.get("verifiersDisagree"):
        notes.append("the load generators' verifiers saw different event orders")
    if result.get("publishAnswered") is False:
        notes.append("publish requests unanswered 10 s after the window")
    if result.get("stillOpen") is not None and result.get("open") is not None \
            and result["stillOpen"] < result["open"]:
        notes.append(f"{result['open'] - result['stillOpen']} idle subscribers closed by the "
                     "server before the end")
    return notes


def boundBy(result, scenario):
    """
    What limited one number: C{eiobench.boundBy}'s verdict from the CPU of
    the processes (C{server}, C{loadgen}, C{server+loadgen}, C{mixed},
    C{latency}), except that a C{mixed} or C{latency} cell whose pinned core
    was at least 95% busy is C{server core}, C{loadgen core} or C{both
    cores}: the core was full, with the kernel's loopback TCP work (softirq)
    or another process (the notes name it) on it besides the process.
    C{memory} for idle memory.
    """
    if scenario.group == "idle-memory":
        return "memory" if result.get("value") is not None else "n/a"
    verdict = eiobench.boundBy(result)
    if verdict in ("mixed", "latency"):
        server = (result.get("serverCoreBusy") or 0) >= 0.95
        loadgen = (result.get("loadgenCoreBusy") or 0) >= 0.95
        if server and loadgen:
            return "both cores"
        if server:
            return "server core"
        if loadgen:
            return "loadgen core"
    return verdict


def disturbed(result, options):
    """
    C{wsbench.disturbed}, without counting the kernel's interrupt work (the
    loopback traffic of the run itself) as other load.
    """
    other = (result.get("otherCpu") or 0) - (result.get("irqCpu") or 0)
    return ((result.get("backgroundBefore") or 0) >= options.quiet_threshold
            or other > options.other_threshold)


def cpuTable(selected, servers, raw):
    """
    Per fan-out cell (median run): the CPU of the server and the load
    generators (1.0 = one core), how busy their pinned cores were (process
    plus kernel work), the load generator's CPU per delivery, and what
    bounded the number.
    """
    lines = [
        "| scenario | " + " | ".join(servers) + " |",
        "|---|" + "---|" * len(servers),
    ]
    for scenario in selected:
        cells = []
        for name in servers:
            runs = sorted((r for r in raw[scenario.key][name] if r.get("value") is not None),
                          key=lambda r: r["value"])
            if not runs:
                cells.append("n/a")
                continue
            r = runs[len(runs) // 2]
            cell = f"server {r.get('serverCpu', 0):.0%}"
            if r.get("serverCoreBusy") is not None:
                cell += f" (core {r['serverCoreBusy']:.0%})"
            cell += f", loadgen {r.get('loadgenCpu', 0):.0%}"
            if r.get("loadgenCoreBusy") is not None:
                cell += f" (core {r['loadgenCoreBusy']:.0%})"
            if r.get("loadgenCpu") and r["value"]:
                cell += f" = {r['loadgenCpu'] / r['value'] * 1e6:.1f} µs/delivery"
            if r.get("irqCpu") is not None:
                cell += f", irq {r['irqCpu']:.2f}"
            cells.append(cell + f": {r.get('boundBy', 'n/a')}")
        lines.append(f"| {scenario.key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe(result):
    """
    The extra figures of one cell for the progress line.
    """
    parts = []
    if result.get("publicationsPerSecond"):
        parts.append(f"{result['publicationsPerSecond']:,.0f} publications/s")
    if result.get("latencyMs"):
        parts.append(f"last delivery p50 {result['latencyMs']['p50']} p99 "
                     f"{result['latencyMs']['p99']} ms")
    if result.get("rssAfterMiB") is not None:
        parts.append(f"RSS {result['rssBeforeMiB']:.1f} -> {result['rssAfterMiB']:.1f} MiB")
    return f" ({'; '.join(parts)})" if parts else ""


class Row(wsbench.Metric):
    """
    A line of the main table: a scenario's value, or a figure of its runs
    (C{pick(result)}).
    """

    def __init__(self, key, label, unit, higherIsBetter, scenarioKey, pick):
        super().__init__(key, key, label, unit, [], higherIsBetter)
        self.scenarioKey = scenarioKey
        self.pick = pick


def rows(selected):
    out = []
    for s in selected:
        out.append(Row(s.key, s.label, s.unit, s.higherIsBetter, s.key, lambda r: r.get("value")))
        if s.group == "fanout":
            for p in ("p50", "p99"):
                out.append(Row(
                    f"{s.key}:latency-{p}", f"{s.label}: publish to last delivery, {p}",
                    "ms", False, s.key,
                    lambda r, p=p: (r.get("latencyMs") or {}).get(p) if r.get("value") else None,
                ))
    return out


def summarize(tableRows, servers, raw):
    summary = {}
    for row in tableRows:
        summary[row.key] = {}
        for name in servers:
            runs = raw[row.scenarioKey][name]
            values = [row.pick(x) for x in runs if not x.get("error")]
            values = [v for v in values if v is not None]
            summary[row.key][name] = {
                "value": statistics.median(values) if values else None,
                "runs": len(runs),
                "boundBy": sorted({x.get("boundBy", "n/a") for x in runs}),
                "notes": sorted({n for x in runs for n in notesFor(x)}),
            }
    return summary


def targets(summary, servers):
    """
    Issue 5's targets, checked on the medians: rtproto's deliveries/s at
    least 3x sse-starlette's and at least the Node server's, and at most
    8 KiB per idle subscriber.
    """
    if REFERENCE not in servers:
        return []

    def value(key, name):
        return (summary.get(key) or {}).get(name, {}).get("value")

    lines = []
    ours = value("fanout", REFERENCE)
    for peer, factor in (("sse-starlette", 3.0), ("node", 1.0)):
        if "fanout" not in summary or peer not in servers:
            continue
        theirs = value("fanout", peer)
        if ours and theirs:
            verdict = "met" if ours >= factor * theirs else "NOT met"
            lines.append(f"- fan-out >= {factor:g}x {peer}: {ours / theirs:.2f}x, {verdict}")
        else:
            lines.append(f"- fan-out >= {factor:g}x {peer}: n/a")
    if "idle-memory" in summary:
        kib = value("idle-memory", REFERENCE)
        if kib is not None:
            lines.append(f"- idle subscriber <= 8 KiB: {kib:.2f} KiB, "
                         f"{'met' if kib <= 8 else 'NOT met'}")
        else:
            lines.append("- idle subscriber <= 8 KiB: n/a")
    return lines


def machineInfo(options):
    """
    Machine, interpreter, package and npm versions for the JSON.
    """
    info = eiobench.machineInfo(options)
    versions = subprocess.run(
        [options.python, "-c",
         "import importlib.metadata as m, json\nout = {}\n"
         "for n in ('sse-starlette', 'starlette', 'uvicorn', 'anyio', 'h11', 'httptools',"
         " 'uvloop', 'Twisted'):\n"
         "    try: out[n] = m.version(n)\n"
         "    except Exception: out[n] = None\n"
         "print(json.dumps(out))"],
        capture_output=True, text=True,
    )
    if versions.returncode == 0:
        info["versions"].update(json.loads(versions.stdout))
    for package in ("engine.io", "engine.io-client", "ws"):
        info["versions"].pop("npm " + package, None)
    try:
        with open(os.path.join(HERE, "node_modules", "eventsource", "package.json")) as f:
            info["versions"]["npm eventsource"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        info["versions"]["npm eventsource"] = None
    return info


# --------------------------------------------------------------- main


def parseOptions(argv):
    parser = argparse.ArgumentParser(
        description="Side-by-side SSE benchmark (rtproto vs sse-starlette and a Node SSE server)."
    )
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help="comma-separated servers: " + ", ".join(SERVERS))
    parser.add_argument("--only", default="fanout,idle-memory",
                        help="comma-separated scenarios (fanout, idle-memory) or keys "
                             "(e.g. fanout:eventsource)")
    parser.add_argument("--client", default="raw",
                        help="load generator clients, comma-separated: raw (a minimal "
                             "subscriber on a socket: the headline numbers) and eventsource "
                             "(the npm eventsource package; npm ci --prefix bench/sse)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 s warm-up, 2 s windows, 2,000 idle subscribers, "
                             "no retries")
    parser.add_argument("--duration", type=float, default=5.0, help="measured window, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before it, s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; median kept")
    parser.add_argument("--subscribers", type=int, default=1000, help="fan-out subscribers")
    parser.add_argument("--inflight", type=int, default=4,
                        help="publications outstanding (answer not back, or not yet delivered)")
    parser.add_argument("--size", type=int, default=32,
                        help="payload size, ASCII characters (at least 26)")
    parser.add_argument("--idle-subscribers", type=int, default=5000,
                        help=f"idle-memory subscribers (at most {MAX_IDLE_SUBSCRIBERS:,})")
    parser.add_argument("--concurrency", type=int, default=50, help="subscribers connecting at once")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="after the window: longest wait for publish answers, and for "
                             "the subscribers to drain, s")
    parser.add_argument("--settle", type=float, default=2.0, help="pause before each RSS sample, s")
    parser.add_argument("--loadgen-procs", type=int, default=1,
                        help="load generator processes sharing the subscribers (all on the "
                             "load generator core unless --no-pin)")
    parser.add_argument("--rtproto-arg", action="append", default=[],
                        help="extra argument for the rtproto server (repeatable)")
    parser.add_argument("--starlette-arg", action="append", default=[],
                        help="extra argument for servers/starlette_server.py (repeatable), "
                             "e.g. --starlette-arg=--http --starlette-arg=httptools")
    parser.add_argument("--wait-quiet", type=float, default=300.0,
                        help="before each run, wait up to this many seconds for a quiet machine")
    parser.add_argument("--quiet-threshold", type=float, default=0.1)
    parser.add_argument("--other-threshold", type=float, default=0.35,
                        help="cores used by anything but the server, the load generator and "
                             "kernel interrupts in a window above which the run is redone")
    parser.add_argument("--retries", type=int, default=2, help="times a disturbed run is redone")
    parser.add_argument("--python", default=sys.executable, help="interpreter running the servers")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--loadgen-core", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--out", help="JSON output path (default bench/results/sse-<time>.json)")
    parser.add_argument("--profile", action="store_true",
                        help="run rtproto under cProfile (bench/profile_twist.py); writes "
                             "<out>.<scenario>.<n>.prof; those numbers are not comparable")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.warmup = 2.0, 1.0
        options.idle_subscribers = min(options.idle_subscribers, 2000)
        options.wait_quiet = min(options.wait_quiet, 30.0)
        options.retries = 0
    options.servers = [s.strip() for s in options.servers.split(",") if s.strip()]
    options.client = [c.strip() for c in options.client.split(",") if c.strip()]
    for c in options.client:
        if c not in ("raw", "eventsource"):
            parser.error(f"unknown client {c!r}")
    for s in options.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    if options.loadgen_procs < 1:
        parser.error("--loadgen-procs must be at least 1")
    if options.size < 26:
        parser.error("--size must be at least 26 (sequence number and send time)")
    if not 1 <= options.idle_subscribers <= MAX_IDLE_SUBSCRIBERS:
        parser.error(f"--idle-subscribers must be between 1 and {MAX_IDLE_SUBSCRIBERS}")
    if not 1 <= options.subscribers <= MAX_IDLE_SUBSCRIBERS:
        parser.error(f"--subscribers must be between 1 and {MAX_IDLE_SUBSCRIBERS}")
    return options


def main(argv=None):
    signal.signal(signal.SIGTERM, eiobench.terminate)
    options = parseOptions(argv)
    wanted = {w.strip() for w in options.only.split(",") if w.strip()}
    selected = [s for s in scenarios(options) if s.key in wanted or s.group in wanted]
    if not selected:
        sys.exit(f"nothing selected by --only {options.only}")
    if not options.no_pin and not shutil.which("taskset"):
        sys.exit("taskset not found (use --no-pin)")
    if "eventsource" in options.client and not os.path.isdir(
            os.path.join(HERE, "node_modules", "eventsource")):
        sys.exit("npm package missing for --client eventsource: run  npm ci --prefix bench/sse")
    import resource
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    needed = max(options.subscribers, options.idle_subscribers) + 100
    if limit != resource.RLIM_INFINITY and limit < needed:
        sys.exit(f"the hard limit of open files ({limit}) is below {needed}: lower "
                 "--idle-subscribers / --subscribers or raise ulimit -Hn")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = options.out or os.path.join(RESULTS, f"sse-{stamp}.json")
    logPath = os.path.splitext(out)[0] + ".servers.log"
    machine = machineInfo(options)
    print(f"machine: {machine['nproc']} x {machine['cpu']}, node {machine['node']}, "
          f"rtproto {machine['rtprotoCommit']}, versions {json.dumps(machine['versions'])}",
          flush=True)
    if machine["backgroundBusy"] and machine["backgroundBusy"] > 0.1:
        print(f"WARNING: the machine is {machine['backgroundBusy']:.0%} busy before the "
              "benchmark starts; other processes will skew the numbers", flush=True)
    raw = {s.key: {name: [] for name in options.servers} for s in selected}
    tableRows = rows(selected)

    def save(summary=None):
        """
        Write the JSON (after every cell, so that a stopped run keeps what
        it measured).
        """
        document = {
            "machine": machine,
            "options": vars(options),
            "commands": {name: SERVERS[name].command(options, 0) for name in options.servers},
            "apps": {name: SERVERS[name].describe() for name in options.servers},
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
                    if (not disturbed(result, options) or result.get("error")
                            or attempt == options.retries):
                        break
                    print(f"  {scenario.key} {name}: disturbed by other load, retrying "
                          f"({'; '.join(notesFor(result))})", flush=True)
                if profilePath:
                    result["profile"] = profilePath
                result["boundBy"] = boundBy(result, scenario)
                raw[scenario.key][name].append(result)
                extra = "; ".join(notesFor(result))
                cpu = ""
                if scenario.group == "fanout":
                    cpu = (f" server {result.get('serverCpu', 0):.0%} loadgen "
                           f"{result.get('loadgenCpu', 0):.0%}")
                print(f"[{r + 1}/{options.repeat}] {scenario.key:11} {name:13} "
                      f"{wsbench.fmt(result.get('value')):>10} {scenario.unit:14}"
                      f"{cpu} ({result['boundBy']})"
                      + describe(result) + (f"  [{extra}]" if extra else ""), flush=True)
                save()

    summary = summarize(tableRows, options.servers, raw)
    report = wsbench.table(tableRows, options.servers, summary)
    fanouts = [s for s in selected if s.group == "fanout"]
    if fanouts:
        report += ("\n\nCPU in the fan-out window (1.0 = one core; core = how busy the pinned "
                   "core was, kernel work included) and what bounded each number:\n\n")
        report += cpuTable(fanouts, options.servers, raw)
        report += "\n\nServer CPU per delivery (median), and how many times as much each peer spends:\n\n"
        report += eiobench.cpuPerOperationTable(fanouts, options.servers, raw)
    goals = targets(summary, options.servers)
    if goals:
        report += "\n\nTargets (issue 5):\n" + "\n".join(goals)
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
