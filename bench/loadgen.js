#!/usr/bin/env node
/**
 * WebSocket load generator for the rtproto side-by-side benchmark.
 *
 * Plain Node (no npm dependencies): raw `net` sockets, a minimal RFC 6455
 * client (HTTP/1.1 upgrade, masked client frames, incremental parsing of
 * unmasked server frames, pong replies, close handshake).  It is driven by
 * bench/run.py, which pins it to its own core and reads its output.
 *
 * Output is one JSON object per line on stdout.  Lines with an "event" key
 * mark phases the orchestrator samples the server at ("window_start",
 * "window_end", "warm", "ready"); the last line has "event": "result".
 * In the "idle" mode the orchestrator answers on stdin ("go", "close").
 *
 * Modes (--mode):
 *   small      N connections, each keeping K messages of S bytes in flight.
 *   large      N connections doing sequential round trips of S-byte messages;
 *              counts echoed payload bytes received inside the window.
 *   handshake  C workers looping connect -> upgrade -> close handshake.
 *   idle       open N idle connections and hold them until told to close.
 *   broadcast  N connections on the broadcast path; connection 0 sends
 *              numbered messages, every connection (sender included) receives
 *              each; at most W broadcasts are outstanding at any time.
 *
 * Client frames are prebuilt once (payload masked with random keys) so the
 * generator spends its time on the sockets, not on masking.  Every echo is
 * checked byte for byte against what was sent.
 */
'use strict';

const net = require('net');
const crypto = require('crypto');
const readline = require('readline');

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = {
    mode: 'small', host: '127.0.0.1', port: 0, path: '/ws',
    conns: 100, inflight: 8, size: 64, binary: false,
    warmup: 2, duration: 5, concurrency: 50, openConcurrency: 200,
    window: 8, maxMessages: 0, timeout: 30, holdTimeout: 120,
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
  return opts;
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function now() { return Number(process.hrtime.bigint()) / 1e9; }
function sleep(s) { return new Promise((r) => setTimeout(r, s * 1000)); }

// ---------------------------------------------------------------- framing

const OP_CONT = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2;
const OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xa;

/** A masked client frame (FIN set) carrying `payload`. */
function buildFrame(opcode, payload, maskKey) {
  const n = payload.length;
  const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(hl + 4 + n);
  buf[0] = 0x80 | opcode;
  if (n < 126) {
    buf[1] = 0x80 | n;
  } else if (n < 65536) {
    buf[1] = 0x80 | 126;
    buf.writeUInt16BE(n, 2);
  } else {
    buf[1] = 0x80 | 127;
    buf.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    buf.writeUInt32BE(n >>> 0, 6);
  }
  const key = maskKey || crypto.randomBytes(4);
  key.copy(buf, hl);
  const off = hl + 4;
  // Mask four bytes at a time where possible.
  const k32 = key.readInt32LE(0);
  let i = 0;
  const whole = n - (n % 4);
  for (; i < whole; i += 4) {
    buf.writeInt32LE(payload.readInt32LE(i) ^ k32, off + i);
  }
  for (; i < n; i++) buf[off + i] = payload[i] ^ key[i & 3];
  return buf;
}

function closeFrame(code) {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(code, 0);
  return buildFrame(OP_CLOSE, p);
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// Every socket reads into this one buffer (net's `onread` option): no
// per-read allocation and no stream machinery.  Whatever must outlive a
// read callback is copied out of it.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * One client WebSocket connection over a net.Socket.
 *
 * `onMessage(opcode, length, conn)` is called for every complete data
 * message; if `expect` is a Buffer the payload is compared with it as it
 * arrives (mismatches counted in `mismatches`).  If `collect` is true the
 * payload bytes are kept and passed as a fourth argument.
 */
class WsConn {
  constructor(sock) {
    this.sock = sock;
    this.afterRead = null;
    this.partial = null;
    this.inPayload = false;
    this.remaining = 0;
    this.fin = false;
    this.opcode = 0;
    this.msgOpcode = 0;
    this.msgLen = 0;
    this.ctrl = null;
    this.parts = null;
    this.expect = null;
    this.collect = false;
    this.whole = null;
    this.mismatches = 0;
    this.protocolErrors = 0;
    this.onMessage = null;
    this.onClose = null;
    this.closeReceived = false;
    this.closeSent = false;
    this.closed = false;
    this.bytesIn = 0;
    sock.reader = (d) => {
      this.feed(d);
      if (this.afterRead !== null) this.afterRead(this);
    };
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      if (this.onClose) this.onClose(this);
    });
  }

  feed(chunk) {
    if (this.partial) {
      chunk = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (!this.inPayload) {
        const avail = len - off;
        if (avail < 2) { this.partial = Buffer.from(chunk.subarray(off)); return; }
        const b0 = chunk[off], b1 = chunk[off + 1];
        if (b1 & 0x80) { this.protocolErrors++; this.sock.destroy(); return; }
        let plen = b1 & 0x7f, hl = 2;
        if (plen === 126) {
          if (avail < 4) { this.partial = Buffer.from(chunk.subarray(off)); return; }
          plen = chunk.readUInt16BE(off + 2); hl = 4;
        } else if (plen === 127) {
          if (avail < 10) { this.partial = Buffer.from(chunk.subarray(off)); return; }
          plen = chunk.readUInt32BE(off + 2) * 2 ** 32 + chunk.readUInt32BE(off + 6);
          hl = 10;
        }
        off += hl;
        this.fin = (b0 & 0x80) !== 0;
        this.opcode = b0 & 0x0f;
        this.remaining = plen;
        if (this.opcode >= 8) {
          this.ctrl = [];
        } else {
          if (this.opcode !== OP_CONT) {
            this.msgOpcode = this.opcode;
            this.msgLen = 0;
            if (this.collect) this.parts = [];
          }
        }
        this.inPayload = true;
        if (plen === 0) { this.inPayload = false; this.frameDone(); }
        continue;
      }
      const n = Math.min(this.remaining, len - off);
      if (this.opcode >= 8) {
        this.ctrl.push(Buffer.from(chunk.subarray(off, off + n)));
      } else {
        const exp = this.expect;
        if (exp !== null) {
          if (this.msgLen + n > exp.length ||
              chunk.compare(exp, this.msgLen, this.msgLen + n, off, off + n) !== 0) {
            this.mismatches++;
          }
        }
        if (this.collect) {
          if (this.remaining === n && this.fin && this.parts.length === 0) {
            // The whole (unfragmented) message is in this chunk: hand a
            // view of it over without copying.
            this.whole = chunk.subarray(off, off + n);
          } else {
            this.parts.push(Buffer.from(chunk.subarray(off, off + n)));
          }
        }
        this.msgLen += n;
        this.bytesIn += n;
      }
      off += n;
      this.remaining -= n;
      if (this.remaining === 0) { this.inPayload = false; this.frameDone(); }
    }
  }

  frameDone() {
    const op = this.opcode;
    if (op >= 8) {
      const payload = Buffer.concat(this.ctrl);
      this.ctrl = null;
      if (op === OP_PING) {
        if (!this.closeSent) this.sock.write(buildFrame(OP_PONG, payload));
      } else if (op === OP_CLOSE) {
        this.closeReceived = true;
        if (!this.closeSent) {
          this.closeSent = true;
          this.sock.write(buildFrame(OP_CLOSE, payload.subarray(0, 2)));
        }
        if (this.onCloseFrame) this.onCloseFrame(this);
      }
      return;
    }
    if (!this.fin) return;
    if (this.expect !== null && this.msgLen !== this.expect.length) this.mismatches++;
    let data;
    if (this.collect) {
      data = this.whole || Buffer.concat(this.parts);
      this.whole = null;
    }
    this.parts = null;
    if (this.onMessage) this.onMessage(this.msgOpcode, this.msgLen, this, data);
  }

  write(buf) { this.sock.write(buf); }

  /** Start the closing handshake; resolves when the TCP connection is gone. */
  close(code = 1000) {
    return new Promise((resolve) => {
      if (this.closed) { resolve(); return; }
      this.onClose = () => resolve();
      if (!this.closeSent) {
        this.closeSent = true;
        this.sock.write(closeFrame(code));
      }
    });
  }
}

/**
 * Connect and perform the opening handshake.  Resolves with a WsConn, or
 * rejects with an Error after `timeout` seconds or on any failure.
 */
function openWs(opts, path, timeout) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
    const sock = net.connect({
      host: opts.host,
      port: opts.port,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => sock.reader(buf.subarray(0, n)) },
    });
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => fail(new Error('handshake timeout')), timeout * 1000);
    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    }
    function onData(d) {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16384) fail(new Error('response headers too long'));
        return;
      }
      const head = buf.toString('latin1', 0, end);
      const rest = buf.subarray(end + 4);
      const lines = head.split('\r\n');
      if (!/^HTTP\/1\.1 101 /.test(lines[0] + ' ')) {
        fail(new Error('bad status: ' + lines[0]));
        return;
      }
      let gotAccept = null, extensions = null;
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === 'sec-websocket-accept') gotAccept = value;
        if (name === 'sec-websocket-extensions') extensions = value;
      }
      if (gotAccept !== accept) { fail(new Error('bad Sec-WebSocket-Accept')); return; }
      if (extensions) { fail(new Error('unexpected extension ' + extensions)); return; }
      done = true;
      clearTimeout(timer);
      sock.reader = null;
      sock.removeListener('error', fail);
      sock.removeListener('close', onEarlyClose);
      const conn = new WsConn(sock);
      if (rest.length) conn.feed(rest);
      resolve(conn);
    }
    function onEarlyClose() { fail(new Error('closed during handshake')); }
    sock.reader = onData;
    sock.on('error', fail);
    sock.on('close', onEarlyClose);
    sock.on('connect', () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\n` +
        `Host: ${opts.host}:${opts.port}\r\n` +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\n` +
        'Sec-WebSocket-Version: 13\r\n\r\n');
    });
  });
}

/** Open `n` connections with at most `concurrency` handshakes in flight. */
async function openMany(opts, path, n, concurrency) {
  const conns = [];
  const errors = [];
  let next = 0;
  async function worker() {
    while (next < n) {
      next++;
      try {
        conns.push(await openWs(opts, path, opts.timeout));
      } catch (e) {
        errors.push(e.message);
      }
    }
  }
  const workers = [];
  for (let i = 0; i < Math.min(concurrency, n); i++) workers.push(worker());
  await Promise.all(workers);
  return { conns, errors };
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Count of distinct error messages, for compact reporting. */
function summarize(errors) {
  const out = {};
  for (const e of errors) out[e] = (out[e] || 0) + 1;
  return out;
}

/** Median, 90th percentile and maximum of a list of seconds, in ms. */
function percentiles(xs) {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const at = (q) => +(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 1000).toFixed(2);
  return { p50: at(0.5), p90: at(0.9), max: at(1) };
}

async function closeAll(conns, timeout = 5) {
  await Promise.race([
    Promise.all(conns.map((c) => c.close())),
    sleep(timeout),
  ]);
  for (const c of conns) c.sock.destroy();
}

/**
 * Run a measurement window: warm up, then mark window_start, measure for
 * `duration` seconds (or until `isDone()`), mark window_end.  `sample()`
 * returns the counter being measured.
 */
async function measureWindow(opts, sample, isDone = () => false) {
  const warmEnd = now() + opts.warmup;
  while (now() < warmEnd && !isDone()) await sleep(0.05);
  const c0 = sample(), t0 = now(), cpu0 = cpuSeconds();
  emit({ event: 'window_start' });
  const end = t0 + opts.duration;
  while (now() < end && !isDone()) await sleep(0.01);
  const c1 = sample(), t1 = now(), cpu1 = cpuSeconds();
  emit({ event: 'window_end' });
  return { count: c1 - c0, seconds: t1 - t0, loadgenCpu: (cpu1 - cpu0) / (t1 - t0) };
}

// ---------------------------------------------------------------- modes

function payloadOf(size, binary) {
  const p = Buffer.allocUnsafe(size);
  if (binary) {
    crypto.randomFillSync(p);
  } else {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let i = 0; i < size; i++) p[i] = alphabet.charCodeAt(i % alphabet.length);
  }
  return p;
}

async function modeSmall(opts) {
  const op = opts.binary ? OP_BINARY : OP_TEXT;
  const payload = payloadOf(opts.size, opts.binary);
  // batches[k] = k prebuilt frames back to back, each with its own mask key.
  const maxBatch = Math.max(opts.inflight, 64);
  const single = [];
  for (let i = 0; i < maxBatch; i++) single.push(buildFrame(op, payload));
  const batches = [null];
  for (let k = 1; k <= maxBatch; k++) batches.push(Buffer.concat(single.slice(0, k)));

  const { conns, errors } = await openMany(opts, opts.path, opts.conns, opts.openConcurrency);
  let received = 0;
  for (const c of conns) {
    c.expect = payload;
    c.pending = 0;
    c.onMessage = () => { received++; c.pending++; };
    // Reply once per read, after the parser has run, with one write for
    // all the echoes completed by that read.
    c.afterRead = () => {
      let k = c.pending;
      c.pending = 0;
      while (k > 0) {
        const b = Math.min(k, maxBatch);
        c.write(batches[b]);
        k -= b;
      }
    };
  }
  for (const c of conns) c.write(batches[opts.inflight]);
  const w = await measureWindow(opts, () => received);
  const mismatches = conns.reduce((a, c) => a + c.mismatches, 0);
  const closedEarly = conns.filter((c) => c.closed).length;
  await closeAll(conns);
  return {
    value: w.count / w.seconds, unit: 'msg/s', messages: w.count, seconds: w.seconds,
    loadgenCpu: w.loadgenCpu, connections: conns.length, mismatches, closedEarly,
    errors: summarize(errors),
  };
}

async function modeLarge(opts) {
  const payload = payloadOf(opts.size, true);
  const frames = [buildFrame(OP_BINARY, payload), buildFrame(OP_BINARY, payload)];
  const { conns, errors } = await openMany(opts, opts.path, opts.conns, opts.openConcurrency);
  let messages = 0, sent = 0;
  const maxMessages = opts.maxMessages || Infinity;
  let stopped = false;
  const rtts = [];
  const sendOne = (c) => { c.sentAt = now(); c.write(frames[sent++ & 1]); };
  for (const c of conns) {
    c.expect = payload;
    c.onMessage = () => {
      messages++;
      rtts.push(now() - c.sentAt);
      if (!stopped && sent < maxMessages) sendOne(c);
    };
  }
  for (const c of conns) sendOne(c);
  const bytes = () => conns.reduce((a, c) => a + c.bytesIn, 0);
  const w = await measureWindow(opts, bytes, () => messages >= maxMessages ||
    conns.every((c) => c.closed));
  stopped = true;
  const mismatches = conns.reduce((a, c) => a + c.mismatches, 0);
  const closedEarly = conns.filter((c) => c.closed).length;
  // Let outstanding round trips finish so the close is clean.
  const drainEnd = now() + opts.timeout;
  while (messages < sent && now() < drainEnd && !conns.every((c) => c.closed)) await sleep(0.02);
  await closeAll(conns);
  return {
    value: w.count / w.seconds / 1048576, unit: 'MiB/s', bytes: w.count, seconds: w.seconds,
    messages, rttMs: percentiles(rtts), loadgenCpu: w.loadgenCpu, connections: conns.length, mismatches, closedEarly,
    errors: summarize(errors),
  };
}

async function modeHandshake(opts) {
  let completed = 0;
  const errors = [];
  let running = true;
  async function cycle() {
    const conn = await openWs(opts, opts.path, opts.timeout);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.sock.destroy();
        reject(new Error('close timeout'));
      }, opts.timeout * 1000);
      conn.onClose = () => {
        clearTimeout(timer);
        if (conn.closeReceived) resolve();
        else reject(new Error('closed without close frame'));
      };
      conn.closeSent = true;
      conn.write(closeFrame(1000));
    });
  }
  async function worker() {
    while (running) {
      try {
        await cycle();
        completed++;
      } catch (e) {
        errors.push(e.message);
        if (errors.length > 1000) running = false;
      }
    }
  }
  const workers = [];
  for (let i = 0; i < opts.concurrency; i++) workers.push(worker());
  const w = await measureWindow(opts, () => completed, () => !running);
  running = false;
  await Promise.race([Promise.all(workers), sleep(opts.timeout)]);
  return {
    value: w.count / w.seconds, unit: 'handshakes/s', handshakes: w.count, seconds: w.seconds,
    loadgenCpu: w.loadgenCpu, concurrency: opts.concurrency, errors: summarize(errors),
  };
}

async function modeIdle(opts) {
  const lines = readline.createInterface({ input: process.stdin });
  const commands = [];
  let waiter = null;
  lines.on('line', (l) => {
    commands.push(l.trim());
    if (waiter) { const w = waiter; waiter = null; w(); }
  });
  async function command(timeout) {
    const end = now() + timeout;
    while (commands.length === 0 && now() < end) {
      await Promise.race([new Promise((r) => { waiter = r; }), sleep(end - now())]);
    }
    return commands.shift();
  }
  // Warm the server up (imports, caches, first allocations), then let the
  // orchestrator take its "before" sample.
  const warm = await openMany(opts, opts.path, 50, 50);
  const payload = payloadOf(16, false);
  await Promise.all(warm.conns.map((c) => new Promise((resolve) => {
    c.onMessage = resolve;
    c.write(buildFrame(OP_TEXT, payload));
  })));
  await closeAll(warm.conns);
  emit({ event: 'warm' });
  await command(opts.holdTimeout);
  const t0 = now();
  const { conns, errors } = await openMany(opts, opts.path, opts.conns, opts.openConcurrency);
  const openSeconds = now() - t0;
  emit({ event: 'ready', open: conns.length });
  await command(opts.holdTimeout);
  const stillOpen = conns.filter((c) => !c.closed).length;
  await closeAll(conns, 15);
  lines.close();
  return {
    value: conns.length, unit: 'connections', open: conns.length, stillOpen,
    openSeconds, errors: summarize(errors),
  };
}

async function modeBroadcast(opts) {
  const { conns, errors } = await openMany(opts, opts.path, opts.conns, opts.openConcurrency);
  const n = conns.length;
  if (n === 0) {
    return { value: null, unit: 'deliveries/s', error: 'no connection opened',
      errors: summarize(errors) };
  }
  const size = Math.max(opts.size, 24);
  const counts = new Map();
  let deliveries = 0, completedMessages = 0, nextSeq = 0, bad = 0;
  const sender = conns[0];
  function message(seq) {
    const p = payloadOf(size, false);
    p.write(`seq:${String(seq).padStart(12, '0')}|`, 0, 'latin1');
    return buildFrame(OP_TEXT, p);
  }
  function send() { sender.write(message(nextSeq)); counts.set(nextSeq, 0); nextSeq++; }
  let measuring = false;
  for (const c of conns) {
    c.collect = true;
    c.onMessage = (op, len, conn, data) => {
      // "seq:" then 12 decimal digits.
      if (len !== size || data[0] !== 0x73 || data[3] !== 0x3a) { bad++; return; }
      let seq = 0;
      for (let i = 4; i < 16; i++) seq = seq * 10 + (data[i] - 48);
      const k = counts.get(seq);
      if (k === undefined) { bad++; return; }
      deliveries++;
      if (k + 1 === n) {
        counts.delete(seq);
        completedMessages++;
        if (measuring) send();
      } else {
        counts.set(seq, k + 1);
      }
    };
  }
  // Probe until every connection is registered on the server side.
  let ready = false;
  const probeEnd = now() + opts.timeout;
  while (!ready && now() < probeEnd) {
    const before = completedMessages;
    send();
    const waitEnd = now() + 1;
    while (completedMessages === before && now() < waitEnd) await sleep(0.01);
    ready = completedMessages > before;
  }
  if (!ready) {
    await closeAll(conns);
    return { value: null, unit: 'deliveries/s', error: 'not every connection got the probe',
      connections: n, errors: summarize(errors) };
  }
  counts.clear();
  measuring = true;
  for (let i = 0; i < opts.window; i++) send();
  let lastProgress = now(), lastCount = 0;
  const stalled = () => {
    if (deliveries !== lastCount) { lastCount = deliveries; lastProgress = now(); }
    return now() - lastProgress > 5;
  };
  const w = await measureWindow(opts, () => deliveries, stalled);
  measuring = false;
  const isStalled = stalled();
  const drainEnd = now() + 5;
  while (counts.size > 0 && now() < drainEnd) await sleep(0.02);
  const closedEarly = conns.filter((c) => c.closed).length;
  await closeAll(conns, 10);
  return {
    value: w.count / w.seconds, unit: 'deliveries/s', deliveries: w.count, seconds: w.seconds,
    broadcasts: completedMessages, loadgenCpu: w.loadgenCpu, connections: n, window: opts.window,
    undelivered: counts.size, stalled: isStalled, bad, closedEarly, errors: summarize(errors),
  };
}

const MODES = {
  small: modeSmall, large: modeLarge, handshake: modeHandshake,
  idle: modeIdle, broadcast: modeBroadcast,
};

async function main() {
  const opts = parseArgs(process.argv);
  const mode = MODES[opts.mode];
  if (!mode) throw new Error('unknown mode ' + opts.mode);
  const hardLimit = setTimeout(() => {
    emit({ event: 'result', mode: opts.mode, value: null, error: 'load generator hard time limit' });
    process.exit(2);
  }, (opts.warmup + opts.duration + opts.timeout * 3 + opts.holdTimeout * 2 + 60) * 1000);
  const result = await mode(opts);
  clearTimeout(hardLimit);
  emit(Object.assign({ event: 'result', mode: opts.mode }, result));
  process.exit(0);
}

main().catch((e) => {
  emit({ event: 'result', value: null, error: String(e && e.stack || e) });
  process.exit(1);
});
