#!/usr/bin/env node
/**
 * socket.io load generator for rtproto's side-by-side socket.io benchmark
 * (bench/socketio/run.py), against the bench app of bench/socketio/README.md
 * at http://127.0.0.1:PORT/socket.io/, namespace "/".  Loopback only.
 *
 * Output is one JSON object per line on stdout: "joined" once every client
 * of this process is connected (and, for fanout, in room "bench"); the
 * process then waits for a line "go" (or "abort") on stdin, so that several
 * load generator processes start their load together.  "window_start" and
 * "window_end" mark the measured window (the orchestrator samples the
 * server's CPU around it); the last line has "event": "result".
 *
 * Scenarios (--scenario):
 *   fanout  --clients receivers each emit "join-bench" (with an ack) after
 *           connecting.  With --controller, one more connection (which does
 *           not join) emits "fanout"(payload) with an ack, keeping at most
 *           --inflight fan-outs outstanding: a fan-out is outstanding until
 *           its ack is back AND this process's receivers got, on average,
 *           its "msg" (so that a server that acks before it writes cannot
 *           queue without bound).  Value: "msg" events received by this
 *           process's receivers per second in the window (deliveries/s).
 *   ack     --clients clients each keep --inflight "echo-ack"(payload)
 *           emits in flight (a new one per ack); acks per second.
 *
 * --client raw (default) or sio: see clients.js.  Payloads are --size ASCII
 * characters; every "msg" and every ack is checked against what it should
 * carry.
 *
 * Every loop is bounded: the window by --duration, connecting and waiting
 * for "go" by --timeout, draining after the window by 10 s, the whole
 * process by --hard-limit seconds.
 */
'use strict';

const clients = require('./clients.js');

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = {
    scenario: 'fanout', host: '127.0.0.1', port: 0, path: '/socket.io/',
    clients: 1000, inflight: 4, size: 32, controller: false, client: 'raw',
    warmup: 2, duration: 5, concurrency: 50, timeout: 60, hardLimit: 300, id: 0,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error('bad argument ' + a);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in opts)) throw new Error('unknown option ' + a);
    if (typeof opts[key] === 'boolean') { opts[key] = true; continue; }
    const v = argv[++i];
    opts[key] = typeof opts[key] === 'number' ? Number(v) : v;
  }
  if (!['raw', 'sio'].includes(opts.client)) throw new Error('--client is raw or sio');
  if (!['fanout', 'ack'].includes(opts.scenario)) throw new Error('--scenario is fanout or ack');
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(opts.host)) {
    throw new Error('loopback hosts only, not ' + opts.host);
  }
  return opts;
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function now() { return Number(process.hrtime.bigint()) / 1e9; }
function sleep(s) { return new Promise((r) => setTimeout(r, s * 1000)); }
function cpuSeconds() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

function percentiles(values) {
  if (!values.length) return null;
  const v = Float64Array.from(values).sort();
  const at = (p) => Math.round(v[Math.min(v.length - 1, Math.floor(p * v.length))] * 1000) / 1000;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

function countErrors(errors, err) {
  const key = String((err && err.message) || err).slice(0, 80);
  errors[key] = (errors[key] || 0) + 1;
}

/** A payload of `size` ASCII characters, distinct per (n, k). */
function payloadFor(n, k, size) {
  let s = `c${n}m${k}:`;
  while (s.length < size) s += String.fromCharCode(97 + ((s.length * 7 + n + k) % 26));
  return s.slice(0, size);
}

/** Run `count` tasks with at most `limit` at once; collect errors. */
async function pooled(count, limit, task, errors) {
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      try { await task(i); } catch (e) { countErrors(errors, e); }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Resolves with the next line on stdin ("go" or "abort"); rejects after `timeout`. */
function command(timeout) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => { done(); reject(new Error(`no go within ${timeout}s`)); }, timeout * 1000);
    function onData(d) {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { done(); resolve(buf.slice(0, nl).trim()); }
    }
    function onEnd() { done(); resolve('abort'); }
    function done() {
      clearTimeout(timer);
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
    }
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.resume();
  });
}

/** Warm up, then measure `counter()` over the window. */
async function window(opts, counter) {
  await sleep(opts.warmup);
  const c0 = counter(), t0 = now(), cpu0 = cpuSeconds();
  emit({ event: 'window_start', id: opts.id });
  await sleep(opts.duration);
  const c1 = counter(), t1 = now(), cpu1 = cpuSeconds();
  emit({ event: 'window_end', id: opts.id });
  return { count: c1 - c0, seconds: t1 - t0, loadgenCpu: (cpu1 - cpu0) / (t1 - t0) };
}

/** Wait until `counter()` has not moved for 0.5 s (at most `limit` s). */
async function drained(counter, limit) {
  const end = now() + limit;
  let last = counter();
  while (now() < end) {
    await sleep(0.5);
    const c = counter();
    if (c === last) return true;
    last = c;
  }
  return false;
}

async function openAll(opts, count, join, stats) {
  const out = [];
  await pooled(count, Math.max(1, opts.concurrency), async () => {
    const c = await clients.open(opts);
    try {
      if (join) await c.join(opts.timeout);
    } catch (e) { c.close(); throw e; }
    c.onClose = (reason) => {
      if (!stats.stopped) { stats.closedEarly++; countErrors(stats.errors, 'closed: ' + reason); }
    };
    out.push(c);
  }, stats.errors);
  return out;
}

function closeAll(list, stats) {
  stats.stopped = true;
  for (const c of list) c.close();
  return sleep(0.3);
}

/** Tell the orchestrator we are ready; true on "go". */
async function ready(opts, count) {
  emit({ event: 'joined', id: opts.id, clients: count });
  return (await command(opts.timeout)) === 'go';
}

// ---------------------------------------------------------------- scenarios

async function fanout(opts) {
  const stats = { stopped: false, closedEarly: 0, errors: {}, received: 0, bad: 0 };
  const payload = payloadFor(0, 0, opts.size);
  let controller = null, pump = null;
  const receivers = await openAll(opts, opts.clients, true, stats);
  for (const r of receivers) {
    r.expectMsg(payload);
    r.onMsg = (ok) => { stats.received++; if (!ok) stats.bad++; if (pump) pump(); };
  }
  const ctl = { sent: 0, acked: 0, badAcks: 0 };
  if (opts.controller && receivers.length === opts.clients) {
    try {
      controller = (await openAll(opts, 1, false, stats))[0];
    } catch (e) { countErrors(stats.errors, e); }
  }
  const all = controller ? receivers.concat([controller]) : receivers;
  if (receivers.length < opts.clients || (opts.controller && !controller)) {
    emit({ event: 'joined', id: opts.id, clients: receivers.length, failed: true });
    await closeAll(all, stats);
    const error = receivers.length < opts.clients
      ? `only ${receivers.length} of ${opts.clients} receivers joined` : 'the controller did not connect';
    return { value: null, error, errors: stats.errors };
  }
  const K = Math.max(1, opts.inflight);
  const R = receivers.length;
  const free = [];
  if (controller) {
    controller.prepare('fanout', Array(K).fill(payload), Array(K).fill(undefined));
    controller.onAck = (k, ok) => { ctl.acked++; if (!ok) ctl.badAcks++; free.push(k); pump(); };
    pump = () => {
      while (free.length && !stats.stopped && (R === 0 || ctl.sent - stats.received / R < K)) {
        controller.send(free.pop());
        ctl.sent++;
      }
    };
  }
  if (!(await ready(opts, R))) {
    await closeAll(all, stats);
    return { value: null, error: 'aborted' };
  }
  if (controller) { for (let k = K - 1; k >= 0; k--) free.push(k); pump(); }
  const w = await window(opts, () => stats.received);
  const fanoutsSent = ctl.sent;  // all of them, warm-up included
  stats.stopped = true;           // the controller stops; receivers drain
  const quiet = await drained(() => stats.received, 10);
  const result = {
    value: w.count / w.seconds, unit: 'deliveries/s',
    count: w.count, seconds: w.seconds, loadgenCpu: w.loadgenCpu,
    receivers: R, receivedTotal: stats.received, bad: stats.bad,
    inflight: K, client: opts.client, closedEarly: stats.closedEarly, errors: stats.errors,
    drained: quiet,
  };
  if (controller) {
    Object.assign(result, { fanoutsSent, fanoutsAcked: ctl.acked, badAcks: ctl.badAcks });
  }
  await closeAll(all, stats);
  return result;
}

async function ack(opts) {
  const stats = { stopped: false, closedEarly: 0, errors: {}, acks: 0, bad: 0 };
  const list = await openAll(opts, opts.clients, false, stats);
  if (list.length < opts.clients) {
    emit({ event: 'joined', id: opts.id, clients: list.length, failed: true });
    await closeAll(list, stats);
    return { value: null, error: `only ${list.length} of ${opts.clients} clients connected`, errors: stats.errors };
  }
  const K = Math.max(1, opts.inflight);
  const rtts = [];
  list.forEach((c, i) => {
    const n = i + opts.id * 100000;
    const payloads = Array.from({ length: K }, (_, k) => payloadFor(n, k, opts.size));
    const sentAt = new Float64Array(K);
    let sampled = 0;
    c.prepare('echo-ack', payloads, payloads);
    c.onAck = (k, ok) => {
      stats.acks++;
      if (!ok) stats.bad++;
      if ((++sampled & 63) === 0) rtts.push((now() - sentAt[k]) * 1000);
      if (stats.stopped) return;
      sentAt[k] = now();
      c.send(k);
    };
    c.start = () => { for (let k = 0; k < K; k++) { sentAt[k] = now(); c.send(k); } };
  });
  if (!(await ready(opts, list.length))) {
    await closeAll(list, stats);
    return { value: null, error: 'aborted' };
  }
  for (const c of list) c.start();
  const w = await window(opts, () => stats.acks);
  await closeAll(list, stats);
  return {
    value: w.count / w.seconds, unit: 'acks/s',
    count: w.count, seconds: w.seconds, loadgenCpu: w.loadgenCpu,
    clients: list.length, inflight: K, client: opts.client, rttMs: percentiles(rtts),
    bad: stats.bad, closedEarly: stats.closedEarly, errors: stats.errors,
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv);
  const hard = setTimeout(() => {
    emit({ event: 'result', scenario: opts.scenario, id: opts.id, value: null,
           error: 'load generator hard time limit' });
    process.exit(3);
  }, opts.hardLimit * 1000);
  const result = opts.scenario === 'fanout' ? await fanout(opts) : await ack(opts);
  clearTimeout(hard);
  emit(Object.assign({ event: 'result', scenario: opts.scenario, id: opts.id }, result));
  process.exit(0);
}

main().catch((e) => {
  emit({ event: 'result', value: null, error: String(e && e.stack || e) });
  process.exit(1);
});
