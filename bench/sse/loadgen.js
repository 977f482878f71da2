#!/usr/bin/env node
/**
 * Server-Sent Events load generator for rtproto's side-by-side SSE benchmark
 * (bench/sse/run.py), against the bench app of bench/sse/README.md.
 * Loopback only.
 *
 * Output is one JSON object per line on stdout; the orchestrator answers on
 * stdin with one word a line.
 *
 * Scenarios (--scenario):
 *   fanout  --clients subscribers open GET --path and wait for their first
 *           block (the "retry:" line); the process says "joined" and waits
 *           for "go" (or "abort"), so that several processes start together.
 *           With --controller it then publishes (POST --publish-path) numbered
 *           payloads, keeping at most --inflight publications outstanding: one
 *           is outstanding until its 200 is back AND this process's
 *           subscribers got, on average, its event (so that a server that
 *           answers before it writes cannot queue without bound).
 *           "window_start"/"window_end" mark the measured window; value:
 *           events received by this process's subscribers per second in it.
 *           After the window the publisher stops, the subscribers drain, and
 *           the result carries what run.py needs to check that nothing was
 *           lost and to compute publish-to-last-delivery latency.
 *   idle    opens --warm-clients subscribers, closes them, says "warm" and
 *           waits for "go"; opens --clients subscribers, says "ready" once
 *           every one has its first block; closes them on "close".
 *
 * Clients (--client):
 *   raw          a minimal subscriber on a plain socket: one HTTP/1.1 GET,
 *                chunked transfer decoding, and a scan for the "\n\n" that
 *                ends each block; a block starting with ":" (comment) or
 *                "r" ("retry:") is not an event, any other is.  Every
 *                subscriber gets the channel's events in the server's order
 *                (with K publications outstanding on K connections that is
 *                not always the order they were sent in), so the i-th event
 *                of every subscriber is the same publication: one subscriber
 *                per process (the verifier) parses every event in full,
 *                notes which publication (sequence number) and which id is
 *                at each position, and checks the event type ("msg"), that
 *                there is an id, the payload's length, and that no sequence
 *                number comes twice.  Counts and arrival times are kept per
 *                position.  Expects LF line ends, as the bench app does.
 *   eventsource  the npm `eventsource` package (v4, on fetch): listens for
 *                "msg" events; connected = its "open" event.  It costs the
 *                load generator more per event.
 *
 * Payloads are --size ASCII characters: "SSSSSSSS:TTTTTTTTTTTTTTTT:" (the
 * sequence number, 8 digits, and the send time in microseconds of
 * CLOCK_MONOTONIC, 16 digits, the clock every process on the machine shares)
 * then "x" padding.  Times in the result are milliseconds of that clock.
 *
 * Every loop is bounded: opening by --timeout, the window by --duration,
 * publications by --max-publications, waiting for answers and draining by
 * --drain seconds each, the whole process by --hard-limit seconds.
 */
'use strict';

const http = require('http');
const net = require('net');
const readline = require('readline');

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = {
    scenario: 'fanout', host: '127.0.0.1', port: 0, path: '/events?channel=bench',
    publishPath: '/publish', publishFormat: 'text', publishToken: '', publishChannel: 'bench',
    clients: 1000, inflight: 4, size: 32, controller: false, client: 'raw',
    warmup: 2, duration: 5, concurrency: 50, timeout: 60, hardLimit: 300, id: 0,
    maxPublications: 100000, drain: 10, warmClients: 50, holdTimeout: 120,
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
  if (!['raw', 'eventsource'].includes(opts.client)) throw new Error('--client is raw or eventsource');
  if (!['fanout', 'idle'].includes(opts.scenario)) throw new Error('--scenario is fanout or idle');
  if (!['text', 'json'].includes(opts.publishFormat)) throw new Error('--publish-format is text or json');
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(opts.host)) {
    throw new Error('loopback hosts only, not ' + opts.host);
  }
  if (opts.size < PREFIX) throw new Error(`--size must be at least ${PREFIX}`);
  return opts;
}

const PREFIX = 26;  // "SSSSSSSS:TTTTTTTTTTTTTTTT:"

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
/**
 * The last line, then exit once it is written: stdout may be a non-blocking
 * pipe, and process.exit() would drop what the pipe did not take yet.
 */
function emitAndExit(obj, code) {
  process.stdout.write(JSON.stringify(obj) + '\n', () => process.exit(code));
  setTimeout(() => process.exit(code), 30000).unref();
}
/** Milliseconds of CLOCK_MONOTONIC (shared by every process on the machine). */
function now() { return Number(process.hrtime.bigint()) / 1e6; }
function sleep(s) { return new Promise((r) => setTimeout(r, s * 1000)); }
function cpuSeconds() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }
function round3(x) { return Math.round(x * 1000) / 1000; }

function countErrors(errors, err) {
  const key = String((err && err.message) || err).slice(0, 100);
  errors[key] = (errors[key] || 0) + 1;
}

function payloadFor(seq, sentMs, size) {
  const head = String(seq).padStart(8, '0') + ':' +
    String(Math.round(sentMs * 1000)).padStart(16, '0') + ':';
  return head + 'x'.repeat(size - head.length);
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

/** Lines from stdin, one command each; `command(t)` resolves with the next (or "abort"). */
function commands() {
  const queue = [];
  let waiter = null, ended = false;
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (l) => { queue.push(l.trim()); if (waiter) waiter(); });
  lines.on('close', () => { ended = true; if (waiter) waiter(); });
  return {
    async command(timeout) {
      const end = now() + timeout * 1000;
      while (!queue.length && !ended && now() < end) {
        await Promise.race([new Promise((r) => { waiter = r; }), sleep((end - now()) / 1000)]);
        waiter = null;
      }
      return queue.length ? queue.shift() : 'abort';
    },
    close() { lines.close(); },
  };
}

// ---------------------------------------------------------------- raw client

const LFLF = Buffer.from('\n\n');
const COLON = 0x3a, LOWER_R = 0x72, LF = 0x0a, CR = 0x0d;

/**
 * One subscriber on a plain socket.  `onEvent(sub, index)` is called for
 * each event block (index = events before it).  With `verify`, every block
 * is also parsed and checked (see the header).
 */
class RawSubscriber {
  constructor(opts, verify, onEvent) {
    this.opts = opts;
    this.verify = verify;
    this.onEvent = onEvent;
    this.onClose = null;
    this.events = 0;
    this.blocks = 0;
    this.closed = false;
    this.bad = 0;
    this.ids = verify ? [] : null;   // verifier: event id at each position
    this.seqs = verify ? [] : null;  // verifier: sequence number at each position
    this.seen = verify ? new Uint8Array(opts.maxPublications) : null;
    this.text = '';
    this.inHead = true;     // reading the response head
    this.head = null;       // its bytes so far
    this.chunked = false;
    this.left = 0;          // bytes left in the current chunk
    this.skip = 0;          // CRLF after a chunk
    this.sizeLine = '';
    this.atStart = true;    // at the first byte of a block
    this.kind = 0;          // first byte of the current block
    this.lastLF = false;    // the last byte scanned was LF (a boundary may straddle reads)
    this.firstBlock = null; // resolves open()
  }

  open() {
    const { host, port, path, timeout } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`no first block within ${timeout}s`)), timeout * 1000);
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.close();
        reject(err);
      };
      this.firstBlock = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(this);
      };
      this.failOpen = fail;
      const sock = net.connect({ host, port });
      this.sock = sock;
      sock.setNoDelay(true);
      sock.on('connect', () => {
        sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
          'Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n', 'latin1');
      });
      sock.on('data', (d) => {
        try {
          this.onData(d);
        } catch (e) {
          if (!settled) fail(e); else this.protocolError(e);
        }
      });
      sock.on('error', (e) => fail(e));
      sock.on('close', () => {
        const was = this.closed;
        this.closed = true;
        fail(new Error('connection closed before the first block'));
        if (!was && this.onClose) this.onClose('connection closed');
      });
    });
  }

  protocolError(e) {
    if (this.onClose && !this.closed) this.onClose('protocol error: ' + e.message);
    this.close();
  }

  close() {
    this.closed = true;
    if (this.sock) this.sock.destroy();
  }

  onData(d) {
    if (this.inHead) {
      // Response head.
      const buf = this.head ? Buffer.concat([this.head, d]) : d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16384) throw new Error('response head too long');
        this.head = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end);
      this.head = null;
      this.inHead = false;
      const status = head.slice(0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.[01] 200/.test(status)) throw new Error('status: ' + status.slice(0, 60));
      if (!/\r\ncontent-type:\s*text\/event-stream/i.test(head)) throw new Error('not text/event-stream');
      this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
      if (end + 4 < buf.length) this.body(buf, end + 4);
      return;
    }
    this.body(d, 0);
  }

  body(buf, s) {
    if (!this.chunked) { this.scan(buf, s, buf.length); return; }
    const e = buf.length;
    while (s < e) {
      if (this.left > 0) {
        const take = Math.min(this.left, e - s);
        this.scan(buf, s, s + take);
        s += take;
        this.left -= take;
        if (this.left === 0) this.skip = 2;
      } else if (this.skip > 0) {
        if (buf[s] !== (this.skip === 2 ? CR : LF)) throw new Error('bad chunk framing');
        s++;
        this.skip--;
      } else {
        const nl = buf.indexOf(LF, s);
        if (nl < 0) {
          this.sizeLine += buf.toString('latin1', s, e);
          if (this.sizeLine.length > 64) throw new Error('bad chunk size line');
          return;
        }
        this.sizeLine += buf.toString('latin1', s, nl);
        s = nl + 1;
        const n = parseInt(this.sizeLine, 16);
        this.sizeLine = '';
        if (!(n >= 0)) throw new Error('bad chunk size');
        if (n === 0) { this.protocolError(new Error('stream ended')); return; }
        this.left = n;
      }
    }
  }

  /** Body bytes buf[s:e]: find the blocks. */
  scan(buf, s, e) {
    if (this.verify) this.text += buf.toString('latin1', s, e);
    while (s < e) {
      if (this.atStart) { this.kind = buf[s]; this.atStart = false; }
      if (this.lastLF && buf[s] === LF) {
        this.lastLF = false;
        this.boundary();
        s++;
        continue;
      }
      const i = buf.indexOf(LFLF, s);
      if (i < 0 || i + 2 > e) {
        this.lastLF = buf[e - 1] === LF;
        return;
      }
      this.lastLF = false;
      this.boundary();
      s = i + 2;
    }
  }

  boundary() {
    this.atStart = true;
    this.blocks++;
    const isEvent = this.kind !== COLON && this.kind !== LOWER_R;
    if (this.verify) this.check(isEvent);
    if (this.blocks === 1 && this.firstBlock) this.firstBlock();
    if (isEvent) this.onEvent(this, this.events++);
  }

  /** The verifier: parse the block that just ended and check it. */
  check(isEvent) {
    const end = this.text.indexOf('\n\n');
    const block = this.text.slice(0, end);
    this.text = this.text.slice(end + 2);
    if (!isEvent) {
      if (/(^|\n)data/.test(block)) this.bad++;
      return;
    }
    let id = null, event = null, data = null;
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data = data === null ? value : data + '\n' + value;
    }
    checkEvent(this, id, event, data);
  }
}

/**
 * Check one event of a verifier: type "msg", an id, a payload of --size
 * characters carrying a sequence number not seen before; keep the id and the
 * sequence number at this position of the stream.
 */
function checkEvent(sub, id, event, data) {
  const seq = data === null ? -1 : Number(data.slice(0, 8));
  const fresh = Number.isInteger(seq) && seq >= 0 && seq < sub.seen.length && !sub.seen[seq];
  if (fresh) sub.seen[seq] = 1;
  if (event !== 'msg' || id === null || data.length !== sub.opts.size || !fresh) sub.bad++;
  if (sub.ids.length < sub.seen.length) {
    sub.ids.push(id);
    sub.seqs.push(fresh ? seq : -1);
  }
}

// ---------------------------------------------------------------- eventsource client

let EventSourceClass = null;

/** The same interface on the npm `eventsource` package. */
class EsSubscriber {
  constructor(opts, verify, onEvent) {
    this.opts = opts;
    this.verify = verify;
    this.onEvent = onEvent;
    this.onClose = null;
    this.events = 0;
    this.closed = false;
    this.bad = 0;
    this.ids = verify ? [] : null;
    this.seqs = verify ? [] : null;
    this.seen = verify ? new Uint8Array(opts.maxPublications) : null;
  }

  open() {
    if (!EventSourceClass) EventSourceClass = require('eventsource').EventSource;
    const { host, port, path, timeout } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`not open within ${timeout}s`)), timeout * 1000);
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.close();
        reject(err);
      };
      const es = new EventSourceClass(`http://${host}:${port}${path}`);
      this.es = es;
      es.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(this);
      };
      es.onerror = (e) => {
        if (!settled) { fail(new Error('eventsource error: ' + ((e && e.message) || 'before open'))); return; }
        // No reconnection: a reconnect would lose or repeat events.
        const was = this.closed;
        this.close();
        if (!was && this.onClose) this.onClose('eventsource error: ' + ((e && e.message) || ''));
      };
      es.addEventListener('msg', (e) => {
        if (this.verify) checkEvent(this, e.lastEventId, e.type, e.data);
        this.onEvent(this, this.events++);
      });
    });
  }

  close() {
    this.closed = true;
    if (this.es) this.es.close();
  }
}

// ---------------------------------------------------------------- subscribers

async function openAll(opts, count, onEvent, stats, verifyFirst) {
  const Client = opts.client === 'raw' ? RawSubscriber : EsSubscriber;
  const out = [];
  await pooled(count, Math.max(1, opts.concurrency), async (i) => {
    const sub = new Client(opts, verifyFirst && i === 0, onEvent);
    await sub.open();
    sub.onClose = (reason) => {
      if (!stats.stopped) { stats.closedEarly++; countErrors(stats.errors, 'closed: ' + reason); }
    };
    out.push(sub);
  }, stats.errors);
  return out;
}

function closeAll(list, stats) {
  stats.stopped = true;
  for (const s of list) s.close();
  return sleep(0.3);
}

/** Wait until `counter()` has not moved for 0.5 s (at most `limit` s); true if it settled. */
async function drained(counter, limit) {
  const end = now() + limit * 1000;
  let last = counter();
  while (now() < end) {
    await sleep(0.5);
    const c = counter();
    if (c === last) return true;
    last = c;
  }
  return false;
}

// ---------------------------------------------------------------- publisher

/**
 * POSTs publications on keep-alive connections (Node's `http`, at most
 * `inflight` sockets): text (the payload as the body) or JSON
 * ({"channel", "data", "event"} with a bearer token); the answer's id is kept.
 */
class Publisher {
  constructor(opts, cap, onDone) {
    this.opts = opts;
    this.onDone = onDone;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, opts.inflight) });
    this.sentAt = new Float64Array(cap);
    this.ackAt = new Float64Array(cap);
    this.ackIds = [];
    this.sent = 0;
    this.inFlight = 0;
    this.acked = 0;
    this.failed = 0;
    this.errors = {};
  }

  publish() {
    const seq = this.sent++;
    this.inFlight++;
    const t = now();
    this.sentAt[seq] = t;
    const payload = payloadFor(seq, t, this.opts.size);
    const json = this.opts.publishFormat === 'json';
    const body = Buffer.from(json
      ? JSON.stringify({ channel: this.opts.publishChannel, data: payload, event: 'msg' })
      : payload, 'utf8');
    const headers = {
      'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8',
      'Content-Length': body.length,
    };
    if (this.opts.publishToken) headers.Authorization = 'Bearer ' + this.opts.publishToken;
    let finished = false;
    const done = (err, status, text) => {
      if (finished) return;
      finished = true;
      this.inFlight--;
      this.ackAt[seq] = now();
      let id = null;
      if (!err && status === 200) {
        try {
          id = json ? String(JSON.parse(text).id) : text.trim();
        } catch (e) { err = new Error('unreadable publish answer: ' + text.slice(0, 60)); }
      } else if (!err) {
        err = new Error(`publish answered ${status}: ${text.slice(0, 60)}`);
      }
      if (err) { this.failed++; countErrors(this.errors, err); } else this.acked++;
      this.ackIds[seq] = id;
      this.onDone();
    };
    const req = http.request({
      host: this.opts.host, port: this.opts.port, method: 'POST',
      path: this.opts.publishPath, agent: this.agent, headers,
    }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => done(null, res.statusCode, Buffer.concat(parts).toString('utf8')));
      res.on('error', (e) => done(e));
    });
    req.setTimeout(this.opts.timeout * 1000, () => req.destroy(new Error('publish timed out')));
    req.on('error', (e) => done(e));
    req.end(body);
  }

  close() { this.agent.destroy(); }
}

// ---------------------------------------------------------------- scenarios

async function fanout(opts, cmd) {
  const stats = { stopped: false, closedEarly: 0, errors: {}, received: 0 };
  const cap = Math.max(1, opts.maxPublications);
  const arrivals = new Uint32Array(cap);
  const lastArrival = new Float64Array(cap);
  let R = 0;
  let pump = null;
  const onEvent = (sub, index) => {
    stats.received++;
    if (index < cap && ++arrivals[index] === R) lastArrival[index] = now();
    if (pump) pump();
  };
  const subs = await openAll(opts, opts.clients, onEvent, stats, true);
  R = subs.length;
  if (R < opts.clients) {
    emit({ event: 'joined', id: opts.id, clients: R, failed: true });
    await closeAll(subs, stats);
    return { value: null, error: `only ${R} of ${opts.clients} subscribers connected`, errors: stats.errors };
  }
  const K = Math.max(1, opts.inflight);
  let publisher = null;
  let publishing = false;
  if (opts.controller) {
    publisher = new Publisher(opts, cap, () => pump());
    pump = () => {
      while (publishing && publisher.inFlight < K && publisher.sent < cap &&
             publisher.sent - stats.received / R < K) {
        publisher.publish();
      }
    };
  }
  emit({ event: 'joined', id: opts.id, clients: R });
  if ((await cmd.command(opts.timeout)) !== 'go') {
    await closeAll(subs, stats);
    if (publisher) publisher.close();
    return { value: null, error: 'aborted' };
  }
  if (publisher) { publishing = true; pump(); }
  await sleep(opts.warmup);
  const c0 = stats.received, t0 = now(), cpu0 = cpuSeconds();
  emit({ event: 'window_start', id: opts.id });
  await sleep(opts.duration);
  const c1 = stats.received, t1 = now(), cpu1 = cpuSeconds();
  emit({ event: 'window_end', id: opts.id });
  publishing = false;
  let answered = true;
  if (publisher) {
    const end = now() + opts.drain * 1000;
    while (publisher.inFlight > 0 && now() < end) await sleep(0.05);
    answered = publisher.inFlight === 0;
  }
  const quiet = await drained(() => stats.received, opts.drain);
  const published = publisher ? publisher.sent : null;
  const counts = {};
  let bad = 0;
  const verifier = subs.find((s) => s.verify);
  for (const s of subs) { counts[s.events] = (counts[s.events] || 0) + 1; bad += s.bad; }
  const n = Math.min(cap, Math.max(0, ...subs.map((s) => s.events), published || 0));
  const result = {
    value: (c1 - c0) / ((t1 - t0) / 1000), unit: 'deliveries/s',
    count: c1 - c0, seconds: (t1 - t0) / 1000, loadgenCpu: (cpu1 - cpu0) / ((t1 - t0) / 1000),
    windowStart: round3(t0), windowEnd: round3(t1),
    receivers: R, receivedTotal: stats.received, counts, bad, inflight: K, client: opts.client,
    closedEarly: stats.closedEarly, errors: stats.errors, drained: quiet,
    arrivals: Array.from(arrivals.subarray(0, n)),
    lastArrival: Array.from(lastArrival.subarray(0, n), round3),
    eventIds: verifier ? verifier.ids : null,
    eventSeqs: verifier ? verifier.seqs : null,
  };
  if (publisher) {
    Object.assign(result, {
      published, publishAcked: publisher.acked, publishFailed: publisher.failed,
      publishAnswered: answered, publishErrors: publisher.errors, capReached: published >= cap,
      sentAt: Array.from(publisher.sentAt.subarray(0, published), round3),
      ackAt: Array.from(publisher.ackAt.subarray(0, published), round3),
      ackIds: publisher.ackIds.slice(0, published),
    });
    publisher.close();
  }
  await closeAll(subs, stats);
  return result;
}

async function idle(opts, cmd) {
  const stats = { stopped: false, closedEarly: 0, errors: {} };
  const ignore = () => {};
  // Warm the server up (imports, first allocations), then let the
  // orchestrator take its "before" sample.
  const warm = await openAll(opts, Math.min(opts.warmClients, opts.clients), ignore, stats, false);
  await closeAll(warm, stats);
  stats.stopped = false;
  emit({ event: 'warm', id: opts.id, clients: warm.length });
  if ((await cmd.command(opts.holdTimeout)) !== 'go') return { value: null, error: 'aborted' };
  const t0 = now();
  const subs = await openAll(opts, opts.clients, ignore, stats, false);
  const openSeconds = (now() - t0) / 1000;
  emit({ event: 'ready', id: opts.id, open: subs.length, notOpened: opts.clients - subs.length });
  await cmd.command(opts.holdTimeout);
  const stillOpen = subs.filter((s) => !s.closed).length;
  await closeAll(subs, stats);
  const result = {
    value: subs.length, unit: 'subscribers', open: subs.length, stillOpen,
    openSeconds, client: opts.client, closedEarly: stats.closedEarly, errors: stats.errors,
  };
  if (subs.length < opts.clients) result.error = `only ${subs.length} of ${opts.clients} subscribers connected`;
  return result;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv);
  const hard = setTimeout(() => {
    emitAndExit({ event: 'result', scenario: opts.scenario, id: opts.id, value: null,
                  error: 'load generator hard time limit' }, 3);
  }, opts.hardLimit * 1000);
  const cmd = commands();
  const result = opts.scenario === 'fanout' ? await fanout(opts, cmd) : await idle(opts, cmd);
  clearTimeout(hard);
  cmd.close();
  emitAndExit(Object.assign({ event: 'result', scenario: opts.scenario, id: opts.id }, result), 0);
}

main().catch((e) => {
  emitAndExit({ event: 'result', value: null, error: String((e && e.stack) || e) }, 1);
});
