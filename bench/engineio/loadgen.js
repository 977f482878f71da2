#!/usr/bin/env node
/**
 * engine.io load generator for rtproto's side-by-side engine.io benchmark
 * (bench/engineio/run.py).
 *
 * Uses the real npm client, `engine.io-client` v6 (protocol v4), against an
 * echo server at http://127.0.0.1:PORT/engine.io/.  Loopback only.
 *
 * Output is one JSON object per line on stdout.  "window_start" and
 * "window_end" mark the measured window (the orchestrator samples the
 * server's CPU around it); the last line has "event": "result".
 *
 * Scenarios (--scenario):
 *   ws-msgs        --clients clients on the websocket transport only, each
 *                  keeping --inflight messages in flight (a new one is sent
 *                  for each echo); echoes received per second in the window.
 *   poll-rtt       --clients clients on the polling transport only, each
 *                  doing sequential round trips (send, wait for the echo);
 *                  round trips per second in the window.
 *   upgrade-storm  --clients clients (1,000) open with polling and upgrade
 *                  to websocket (the client's default behaviour), at most
 *                  --concurrency of them connecting at once; each, once
 *                  upgraded, sends one message and waits for its echo.  The
 *                  window is the whole storm: clients per second until all
 *                  are done.  A smaller warm-up storm (--warmup-clients)
 *                  runs and is closed first.
 *
 * Messages are --size characters (ASCII text, or bytes with --binary); each
 * client has its own --inflight distinct messages and, since echoes come
 * back in order, checks each echo against the one it expects.
 *
 * Polling requests go through one shared keep-alive `http.Agent` (as a
 * browser would reuse its connections); `--no-keepalive` gives the
 * client's own default in Node (a new TCP connection per HTTP request).
 * permessage-deflate is not offered (`perMessageDeflate: false`).
 *
 * `--client raw` swaps engine.io-client for rawclient.js, a minimal
 * engine.io v4 client on raw sockets (same protocol steps, far less CPU per
 * message), to tell a server-bound number from a client-bound one.
 *
 * Every loop is bounded: the window by --duration, connecting by
 * --timeout, the whole process by --hard-limit seconds.
 */
'use strict';

const http = require('http');
const { Socket } = require('engine.io-client');
const raw = require('./rawclient.js');

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = {
    scenario: 'ws-msgs', host: '127.0.0.1', port: 0, path: '/engine.io/',
    clients: 100, inflight: 8, size: 32, binary: false,
    warmup: 2, duration: 5, concurrency: 100, warmupClients: 100,
    keepalive: true, timeout: 60, hardLimit: 300, id: 0, client: 'eio',
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error('bad argument ' + a);
    let key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (key.startsWith('no') && key.length > 2) {
      const base = key[2].toLowerCase() + key.slice(3);
      if (typeof opts[base] === 'boolean') { opts[base] = false; continue; }
    }
    if (!(key in opts)) throw new Error('unknown option ' + a);
    if (typeof opts[key] === 'boolean') { opts[key] = true; continue; }
    const v = argv[++i];
    opts[key] = typeof opts[key] === 'number' ? Number(v) : v;
  }
  if (!['eio', 'raw'].includes(opts.client)) throw new Error('--client is eio or raw');
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(opts.host)) {
    throw new Error('loopback hosts only, not ' + opts.host);
  }
  return opts;
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function now() { return Number(process.hrtime.bigint()) / 1e9; }
function sleep(s) { return new Promise((r) => setTimeout(r, s * 1000)); }

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function percentiles(values) {
  if (!values.length) return null;
  const v = Float64Array.from(values).sort();
  const at = (p) => Math.round(v[Math.min(v.length - 1, Math.floor(p * v.length))] * 1000) / 1000;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

function countErrors(errors, err) {
  const key = String((err && (err.description && err.description.message)) || (err && err.message) || err).slice(0, 80);
  errors[key] = (errors[key] || 0) + 1;
}

// ---------------------------------------------------------------- clients

/** The `inflight` distinct messages of client `n`, each `size` long. */
function messagesFor(n, opts) {
  const out = [];
  for (let k = 0; k < Math.max(1, opts.inflight); k++) {
    let s = `c${n}m${k}:`;
    while (s.length < opts.size) s += String.fromCharCode(97 + ((s.length * 7 + n + k) % 26));
    s = s.slice(0, opts.size);
    out.push(opts.binary ? Buffer.from(s) : s);
  }
  return out;
}

function same(a, b) {
  if (typeof a === 'string') return a === b;
  return typeof b !== 'string' && Buffer.compare(a, Buffer.from(b)) === 0;
}

function socketOptions(opts, transports, agent) {
  const o = {
    path: opts.path,
    transports,
    upgrade: transports.length > 1,
    rememberUpgrade: false,
    perMessageDeflate: false,
    reconnection: false,
  };
  if (agent) o.transportOptions = { polling: { agent } };
  return o;
}

/**
 * Open one engine.io-client socket; resolve with it once `readyEvent`
 * ("open" or "upgrade") fired, reject on error, close or timeout.
 */
function openSocket(url, options, readyEvent, timeout) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, options);
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no ${readyEvent} within ${timeout}s`)), timeout * 1000);
    function finish(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) { socket.close(); reject(err); } else resolve(socket);
    }
    function onReady() { finish(null); }
    function onError(e) { finish(e instanceof Error ? e : new Error(String(e))); }
    function onClose(reason) { finish(new Error('closed: ' + reason)); }
    socket.on(readyEvent, onReady);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
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

/**
 * Warm up, then measure `counter()` over the window; returns the count
 * and seconds of the window and this process's CPU use in it.
 */
async function window(opts, counter) {
  await sleep(opts.warmup);
  const c0 = counter(), t0 = now(), cpu0 = cpuSeconds();
  emit({ event: 'window_start', id: opts.id });
  await sleep(opts.duration);
  const c1 = counter(), t1 = now(), cpu1 = cpuSeconds();
  emit({ event: 'window_end', id: opts.id });
  return { count: c1 - c0, seconds: t1 - t0, loadgenCpu: (cpu1 - cpu0) / (t1 - t0) };
}

/**
 * A client that echoes `inflight` messages at a time (ws-msgs) or one
 * (poll-rtt) on an open socket, counting and checking each echo.
 */
function startEchoLoop(client, n, opts, stats) {
  const msgs = messagesFor(n, opts);
  const k = msgs.length;
  const frames = client.frames ? msgs.map(raw.messageFrame) : null;
  let sent = 0, received = 0;
  const sentAt = [];
  client.onMessage((data) => {
    const slot = received % k;
    if (!same(msgs[slot], data)) stats.mismatches++;
    if (stats.sampleRtt && (received & 63) === 0) stats.rtts.push((now() - sentAt[slot]) * 1000);
    received++;
    stats.received++;
    if (!stats.stopped) send();
  });
  client.onClose((reason) => {
    if (!stats.stopped) { stats.closedEarly++; countErrors(stats.errors, 'closed: ' + reason); }
  });
  function send() {
    const slot = sent % k;
    sentAt[slot] = now();
    if (frames) client.sendFrame(frames[slot]); else client.send(msgs[slot]);
    sent++;
  }
  for (let i = 0; i < k; i++) send();
}

/**
 * The common face of both clients for the echo loops: `send(msg)`,
 * `onMessage(f)`, `onClose(f)`, `close()`, and for the raw websocket
 * `frames` + `sendFrame(prebuilt)`.
 */
function eioClient(socket) {
  return {
    send: (m) => socket.send(m),
    onMessage: (f) => socket.on('message', f),
    onClose: (f) => socket.on('close', f),
    close: () => socket.close(),
  };
}

function rawClient(session, frames) {
  const c = {
    frames,
    send: (m) => session.send(m),
    sendFrame: (f) => session.sendFrame(f),
    onMessage: (f) => { session.onMessage = f; },
    onClose: (f) => { session.onClose = () => f('transport close'); session.onError = (e) => f(e.message); },
    close: () => session.close(),
  };
  return c;
}

async function openOne(opts, transports, agent) {
  if (opts.client === 'eio') {
    const url = `http://${opts.host}:${opts.port}`;
    return eioClient(await openSocket(url, socketOptions(opts, transports, agent), 'open', opts.timeout));
  }
  if (transports[0] === 'websocket') {
    return rawClient(await raw.openWsSession(opts.host, opts.port, opts.path, opts.timeout), true);
  }
  const session = new raw.PollingSession(opts.host, opts.port, opts.path, opts.timeout);
  await session.open();
  session.startPolling();
  return rawClient(session, false);
}

async function openAll(opts, transports, agent, errors) {
  const sockets = [];
  await pooled(opts.clients, Math.max(1, opts.concurrency), async () => {
    sockets.push(await openOne(opts, transports, agent));
  }, errors);
  return sockets;
}

async function closeAll(sockets, stats) {
  if (stats) stats.stopped = true;
  for (const s of sockets) s.close();
  await sleep(0.2);
}

function makeAgent(opts) {
  return opts.keepalive ? new http.Agent({ keepAlive: true, maxFreeSockets: 4096 }) : null;
}

// ---------------------------------------------------------------- scenarios

async function echoScenario(opts, transports, inflight) {
  const errors = {};
  const agent = transports.includes('polling') && opts.client === 'eio' ? makeAgent(opts) : null;
  const o = Object.assign({}, opts, { inflight });
  const sockets = await openAll(o, transports, agent, errors);
  if (sockets.length < opts.clients) {
    await closeAll(sockets);
    return { value: null, error: `only ${sockets.length} of ${opts.clients} clients opened`, errors };
  }
  const stats = {
    received: 0, mismatches: 0, closedEarly: 0, errors, stopped: false,
    rtts: [], sampleRtt: true,
  };
  sockets.forEach((s, n) => startEchoLoop(s, n + opts.id * 100000, o, stats));
  const w = await window(opts, () => stats.received);
  await closeAll(sockets, stats);
  if (agent) agent.destroy();
  return {
    value: w.count / w.seconds,
    unit: transports[0] === 'websocket' ? 'msg/s' : 'rtt/s',
    count: w.count, seconds: w.seconds, loadgenCpu: w.loadgenCpu,
    clients: sockets.length, inflight, client: opts.client, rttMs: percentiles(stats.rtts),
    mismatches: stats.mismatches, closedEarly: stats.closedEarly, errors,
  };
}

/**
 * `count` clients open with polling, upgrade, send one message and get
 * its echo; at most `opts.concurrency` in progress at once.  Returns the
 * open sockets (to be closed by the caller) and timings.
 */
async function storm(opts, count, agent, errors, idBase) {
  const url = `http://${opts.host}:${opts.port}`;
  const sockets = [];
  const times = [];
  let mismatches = 0;
  const pool = [];
  await pooled(count, Math.max(1, opts.concurrency), async (i) => {
    const t0 = now();
    let client;
    if (opts.client === 'eio') {
      const socket = await openSocket(url, socketOptions(opts, ['polling', 'websocket'], agent), 'upgrade', opts.timeout);
      sockets.push(socket);
      if (!socket.transport || socket.transport.name !== 'websocket') throw new Error('not on websocket after upgrade');
      client = eioClient(socket);
    } else {
      const session = await raw.upgradeSession(opts.host, opts.port, opts.path, opts.timeout, pool);
      sockets.push(session);
      client = rawClient(session, false);
    }
    const msg = messagesFor(idBase + i, Object.assign({}, opts, { inflight: 1 }))[0];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo after upgrade')), opts.timeout * 1000);
      let settled = false;
      client.onMessage((data) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!same(msg, data)) mismatches++;
        resolve();
      });
      client.onClose((reason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error('closed: ' + reason));
      });
      client.send(msg);
    });
    times.push((now() - t0) * 1000);
  }, errors);
  for (const conn of pool) conn.destroy();
  return { sockets, times, mismatches };
}

async function upgradeStorm(opts) {
  const errors = {};
  const agent = makeAgent(opts);
  const idBase = opts.id * 100000;
  if (opts.warmupClients > 0) {
    const warm = await storm(opts, opts.warmupClients, agent, {}, idBase + 50000);
    await closeAll(warm.sockets);
    await sleep(Math.min(opts.warmup, 2));
  }
  const t0 = now(), cpu0 = cpuSeconds();
  emit({ event: 'window_start', id: opts.id });
  const s = await storm(opts, opts.clients, agent, errors, idBase);
  const t1 = now(), cpu1 = cpuSeconds();
  emit({ event: 'window_end', id: opts.id });
  await closeAll(s.sockets);
  if (agent) agent.destroy();
  const done = s.times.length;
  return {
    value: done === opts.clients ? done / (t1 - t0) : null,
    error: done === opts.clients ? undefined : `only ${done} of ${opts.clients} clients upgraded and echoed`,
    unit: 'clients/s', count: done, seconds: t1 - t0,
    loadgenCpu: (cpu1 - cpu0) / (t1 - t0), clients: opts.clients,
    concurrency: opts.concurrency, client: opts.client, clientMs: percentiles(s.times),
    mismatches: s.mismatches, errors,
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv);
  const hard = setTimeout(() => {
    emit({ event: 'result', scenario: opts.scenario, value: null, error: 'load generator hard time limit' });
    process.exit(3);
  }, opts.hardLimit * 1000);
  let result;
  if (opts.scenario === 'ws-msgs') {
    result = await echoScenario(opts, ['websocket'], opts.inflight);
  } else if (opts.scenario === 'poll-rtt') {
    result = await echoScenario(opts, ['polling'], 1);
  } else if (opts.scenario === 'upgrade-storm') {
    result = await upgradeStorm(opts);
  } else {
    throw new Error('unknown scenario ' + opts.scenario);
  }
  clearTimeout(hard);
  emit(Object.assign({ event: 'result', scenario: opts.scenario, id: opts.id }, result));
  process.exit(0);
}

main().catch((e) => {
  emit({ event: 'result', value: null, error: String(e && e.stack || e) });
  process.exit(1);
});
