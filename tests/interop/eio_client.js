// An engine.io client peer for the interop tests: runs one scenario against
// a server running the command application (tests/interop/eio_app.py on
// rtproto, eio_commands.js on the reference server) and prints one JSON
// line of observations on stdout; the Python tests judge them.
//
//   node eio_client.js SCENARIO URL EIO [--transports polling,websocket]
//       [--no-upgrade] [--force-base64] [--timeout SECONDS]
//
// EIO 4 uses engine.io-client v6, EIO 3 engine.io-client 3.x (the
// eio-client-v3 alias).  Scenarios: basic, upgrade, big, heartbeat,
// disconnect, reconnect.  Every wait is bounded (--timeout, default 15 s,
// per wait); the whole run is bounded too.  Exit status 0 when the scenario
// ran to its end (the observations may still show failures), 1 when it
// stopped on an error (the JSON line then has "error").
"use strict";

const { asciiText, unicodeText, binaryData, summary } = require("./eio_commands.js");

function parseArgs(argv) {
  const positional = [];
  const o = { transports: ["polling", "websocket"], upgrade: true, forceBase64: false, timeout: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--transports") o.transports = argv[++i].split(",");
    else if (a === "--no-upgrade") o.upgrade = false;
    else if (a === "--force-base64") o.forceBase64 = true;
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else if (a.startsWith("--")) throw new Error("unknown option " + a);
    else positional.push(a);
  }
  if (positional.length !== 3) throw new Error("usage: eio_client.js SCENARIO URL EIO [options]");
  [o.scenario, o.url] = positional;
  o.eio = Number(positional[2]);
  if (o.eio !== 3 && o.eio !== 4) throw new Error("EIO must be 3 or 4");
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const facts = { scenario: opts.scenario, eio: opts.eio, transports: opts.transports };

function makeSocket(o) {
  const options = { transports: o.transports, upgrade: o.upgrade, forceBase64: o.forceBase64 };
  if (o.eio === 4) {
    const { Socket } = require("engine.io-client");
    return new Socket(o.url, options);
  }
  const { Socket } = require("eio-client-v3");
  return new Socket(o.url, options);
}

// A message as the tests compare it.
function normal(data) {
  // Both clients' parsers decode an empty message ("4") as undefined.
  if (data === undefined) return { kind: "text", data: "", type: "undefined" };
  if (typeof data === "string") return { kind: "text", data, type: "string" };
  const type = data && data.constructor ? data.constructor.name : typeof data;
  let buf;
  if (Buffer.isBuffer(data)) buf = data;
  else if (data instanceof ArrayBuffer) buf = Buffer.from(data);
  else if (ArrayBuffer.isView(data)) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else buf = Buffer.from(String(data));
  return { kind: "binary", data: buf, type };
}

// What the peer should get for what we send (of an ArrayBuffer view: only
// the bytes it views).
function normalSent(data) {
  return normal(data);
}

function describe(m) {
  if (m.kind === "text") {
    return m.data.length <= 60 ? JSON.stringify(m.data) : `text(${m.data.length} UTF-16 units)`;
  }
  return m.data.length <= 24 ? `binary<${m.data.toString("hex")}>` : `binary(${m.data.length} bytes)`;
}

function sameMessage(a, b) {
  if (a.kind !== b.kind) return false;
  return a.kind === "text" ? a.data === b.data : a.data.equals(b.data);
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// Compare a received message with the expected one: null when equal, else
// a description of the difference.
function compare(expected, got) {
  if (sameMessage(expected, got)) return null;
  if (expected.kind !== got.kind) {
    return `expected ${describe(expected)}, got ${describe(got)} (${got.type})`;
  }
  const i = firstDifference(expected.data, got.data);
  return `expected ${describe(expected)}, got ${describe(got)}; first difference at index ${i}`;
}

function describeError(e) {
  if (e === undefined || e === null) return null;
  if (e.message) return String(e.message);
  if (e.description !== undefined) return `${e.type || "error"}: ${e.description && e.description.message ? e.description.message : e.description}`;
  return String(e);
}

class Session {
  constructor(o) {
    this.o = o;
    this.inbox = [];
    this.waiters = [];
    this.closeInfo = null;
    this.errors = [];
    this.socket = makeSocket(o);
    this.socket.on("message", (data) => this._push(normal(data)));
    this.socket.on("error", (err) => this.errors.push(describeError(err)));
    this.socket.on("close", (reason, desc) => {
      this.closeInfo = { reason: String(reason), description: describeError(desc) };
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((w) => w.reject(new Error(`connection closed (${reason}) while waiting for ${w.what}`)));
      (this._onClose || []).forEach((f) => f());
    });
  }

  _push(m) {
    const w = this.waiters.shift();
    if (w) w.resolve(m);
    else this.inbox.push(m);
  }

  bounded(promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.o.timeout}s waiting for ${what}`)), this.o.timeout * 1000);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  opened() {
    return this.bounded(
      new Promise((resolve, reject) => {
        this.socket.once("open", resolve);
        this.socket.once("close", (reason) => reject(new Error(`closed before open: ${reason} ${this.errors.join("; ")}`)));
      }),
      "the connection to open",
    );
  }

  next(what) {
    if (this.inbox.length) return Promise.resolve(this.inbox.shift());
    if (this.closeInfo) return Promise.reject(new Error(`connection closed (${this.closeInfo.reason}) before ${what}`));
    const p = new Promise((resolve, reject) => {
      const w = { resolve, reject, what };
      this.waiters.push(w);
      this._drop = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
      };
    });
    return this.bounded(p, what).catch((e) => {
      if (this._drop) this._drop();
      throw e;
    });
  }

  async ask(command) {
    this.socket.send(command);
    const m = await this.next(`the reply to ${JSON.stringify(command)}`);
    if (m.kind !== "text") throw new Error(`reply to ${command} was ${describe(m)}`);
    return m.data;
  }

  closed() {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return this.bounded(
      new Promise((resolve) => {
        this._onClose = this._onClose || [];
        this._onClose.push(() => resolve(this.closeInfo));
      }),
      "the connection to close",
    );
  }

  get sid() {
    return this.socket.id;
  }

  get transportName() {
    return this.socket.transport ? this.socket.transport.name : null;
  }
}

async function echoCases(s, cases) {
  const results = [];
  for (const [name, value] of cases) {
    s.socket.send(value);
    const got = await s.next(`the echo of ${name}`);
    const expected = normalSent(value);
    results.push({ name, problem: compare(expected, got), receivedType: got.type });
  }
  return results;
}

function expectedSummaries(values) {
  return values.map((v) => {
    const m = normalSent(v);
    return summary(m.data);
  });
}

// Echo of every kind of small message, a mixed burst, and what the server
// recorded.
async function basic(o) {
  const s = new Session(o);
  await s.opened();
  facts.transportAtOpen = s.transportName;
  facts.sid = s.sid;
  const backing = new Uint8Array(16).map((_, i) => 200 + i);
  const cases = [
    ["hello", "hello"],
    ["empty text", ""],
    ["unicode text", unicodeText(33)],
    ["digits", "42"],
    ["text starting with b", "bAQID"],
    ["json-like text", '{"a":[1,2,"3"]}'],
    ["buffer", Buffer.from([0, 1, 2, 3, 254, 255])],
    ["arraybuffer", new Uint8Array(256).map((_, i) => i).buffer],
    ["empty buffer", Buffer.alloc(0)],
    ["one NUL byte", Buffer.from([0])],
    ["typed array view", new Uint8Array(backing.buffer, 3, 5)],
    ["text after binary", "after binary"],
  ];
  facts.echoes = await echoCases(s, cases);
  facts.expectedReceived = expectedSummaries(cases.map((c) => c[1]));

  s.socket.send("mixed:6");
  const mixed = [];
  for (let i = 0; i < 6; i++) mixed.push(await s.next(`mixed message ${i}`));
  facts.mixed = mixed.map((m) => (m.kind === "text" ? m.data : "binary:" + m.data.toString("utf8")));
  facts.mixedTypes = mixed.map((m) => m.type);

  facts.protocolReply = await s.ask("protocol?");
  facts.transportReply = await s.ask("transport?");
  facts.clientTransport = s.transportName;
  facts.sidReply = await s.ask("sid?");
  facts.serverReceived = JSON.parse((await s.ask("received?")).replace(/^received:/, ""));
  facts.errors = s.errors;
  facts.closedEarly = s.closeInfo;
  s.socket.close();
  await s.closed();
}

// Messages in flight both ways while the polling session upgrades.
async function upgrade(o) {
  const s = new Session({ ...o, transports: ["polling", "websocket"], upgrade: true });
  let sent = 0;
  let upgradedAt = null;
  let upgradingAt = null;
  s.socket.on("upgrading", () => (upgradingAt = sent));
  s.socket.on("upgrade", () => (upgradedAt = sent));
  await s.opened();
  facts.transportAtOpen = s.transportName;
  // As fast as possible (one message per turn of the event loop) until at
  // least 200 are sent; then, while the upgrade is still to come, one every
  // 10 ms (a client that never stops writing may never finish pausing its
  // polling transport); once upgraded, 50 more as fast as possible.
  const MIN = 200;
  const MAX = 5000;
  const sentValues = [];
  const sentLabels = [];
  s.socket.send("burst:200");
  await new Promise((resolve) => {
    function tick() {
      if (s.closeInfo || sent >= MAX || (upgradedAt !== null && sent >= Math.max(MIN, upgradedAt + 50))) {
        resolve();
        return;
      }
      const label = "c" + sent;
      const binary = sent % 3 === 2;
      const value = binary ? Buffer.from(label) : label;
      s.socket.send(value);
      sentValues.push(value);
      sentLabels.push(binary ? "binary:" + label : label);
      sent++;
      if (sent < MIN || upgradedAt !== null) setImmediate(tick);
      else setTimeout(tick, 10);
    }
    tick();
  });
  facts.sent = sent;
  facts.upgradingAt = upgradingAt;
  facts.upgradedAt = upgradedAt;
  const burst = [];
  const echoes = [];
  const other = [];
  while (burst.length < 200 || echoes.length < sentLabels.length) {
    const m = await s.next(`burst message ${burst.length} / echo ${echoes.length} of ${sentLabels.length}`);
    const label = m.kind === "text" ? m.data : "binary:" + m.data.toString("utf8");
    if (m.kind === "text" && /^m\d+$/.test(m.data)) burst.push(m.data);
    else if (/^(binary:)?c\d+$/.test(label)) echoes.push(label);
    else other.push(label);
    if (other.length > 10) break;
  }
  facts.burst = burst;
  facts.expectedBurst = Array.from({ length: 200 }, (_, i) => "m" + i);
  facts.echoes = echoes;
  facts.expectedEchoes = sentLabels;
  facts.unexpected = other;
  facts.transportReply = await s.ask("transport?");
  facts.clientTransport = s.transportName;
  facts.serverUpgrades = JSON.parse((await s.ask("upgrades?")).replace(/^upgrades:/, ""));
  facts.serverReceived = JSON.parse((await s.ask("received?")).replace(/^received:/, ""));
  facts.expectedReceived = expectedSummaries(sentValues);
  facts.errors = s.errors;
  s.socket.close();
  await s.closed();
}

// 1 MiB messages both ways, text and binary, and a large non-ASCII text.
async function big(o) {
  const s = new Session(o);
  await s.opened();
  facts.transportAtOpen = s.transportName;
  const MiB = 1 << 20;
  const cases = [
    ["1 MiB text", asciiText(MiB)],
    ["1 MiB binary", binaryData(MiB)],
    ["300k code points of unicode text", unicodeText(300000)],
  ];
  facts.echoes = await echoCases(s, cases);
  facts.generated = [];
  for (const [command, expected] of [
    [`big:${MiB}`, asciiText(MiB)],
    [`bigbin:${MiB}`, binaryData(MiB)],
    ["uni:300000", unicodeText(300000)],
  ]) {
    s.socket.send(command);
    const got = await s.next(`the reply to ${command}`);
    facts.generated.push({ name: command, problem: compare(normal(expected), got), receivedType: got.type });
  }
  facts.transportReply = await s.ask("transport?");
  facts.errors = s.errors;
  facts.closedEarly = s.closeInfo;
  s.socket.close();
  await s.closed();
}

// Stay open over many heartbeats with a short ping interval.
async function heartbeat(o) {
  const s = new Session(o);
  const WANT = 6;
  let beats = 0;
  let reached;
  const enough = new Promise((resolve) => (reached = resolve));
  s.socket.on("packet", (p) => {
    // EIO4: the server pings; EIO3: the server answers our pings.
    if (p.type === (o.eio === 4 ? "ping" : "pong")) {
      beats++;
      if (beats >= WANT) reached();
    }
  });
  await s.opened();
  const start = Date.now();
  facts.transportAtOpen = s.transportName;
  facts.sid = s.sid;
  facts.pingInterval = o.eio === 4 ? s.socket._pingInterval : s.socket.pingInterval;
  facts.pingTimeout = o.eio === 4 ? s.socket._pingTimeout : s.socket.pingTimeout;
  await s.bounded(
    Promise.race([
      enough,
      new Promise((_, reject) =>
        s.socket.once("close", (reason) => reject(new Error(`closed (${reason}) after ${beats} heartbeats`))),
      ),
    ]),
    `${WANT} heartbeats (${beats} so far)`,
  );
  facts.heartbeats = beats;
  facts.elapsedMs = Date.now() - start;
  facts.echo = await s.ask("still here");
  facts.sidAfter = s.sid;
  facts.transportReply = await s.ask("transport?");
  facts.closedEarly = s.closeInfo;
  facts.errors = s.errors;
  s.socket.close();
  await s.closed();
}

// A clean client-side close, seen by the server.
async function disconnect(o) {
  const s = new Session(o);
  await s.opened();
  facts.transportAtOpen = s.transportName;
  facts.sid = s.sid;
  facts.echo = await s.ask("before close");
  // (while upgrading, both clients wait for the upgrade, then close)
  facts.transportAtClose = s.socket.upgrading ? "websocket" : s.transportName;
  s.socket.close();
  facts.clientClose = await s.closed();
  const t = new Session(o);
  await t.opened();
  facts.secondSid = t.sid;
  facts.serverCloseReason = (await t.ask("whenclosed:" + facts.sid)).replace(/^closed:/, "");
  t.socket.close();
  await t.closed();
}

// The server drops the session; a new session works.
async function reconnect(o) {
  const s = new Session(o);
  const t0 = Date.now();
  facts.upgradeEvents = [];
  for (const name of ["upgrading", "upgrade", "upgradeError"]) {
    s.socket.on(name, () => facts.upgradeEvents.push(`${name} at ${Date.now() - t0} ms`));
  }
  await s.opened();
  facts.transportAtOpen = s.transportName;
  facts.sid = s.sid;
  facts.sidReply = await s.ask("sid?");
  facts.transportAtDrop = s.transportName;
  facts.upgradeEvents.push(`drop sent at ${Date.now() - t0} ms`);
  s.socket.send("drop");
  facts.clientClose = await s.closed();
  const t = new Session(o);
  await t.opened();
  facts.secondTransportAtOpen = t.transportName;
  facts.secondSid = t.sid;
  facts.secondSidReply = await t.ask("sid?");
  facts.echo = await t.ask("again");
  facts.serverCloseReason = (await t.ask("whenclosed:" + facts.sid)).replace(/^closed:/, "");
  facts.errors = s.errors.concat(t.errors);
  t.socket.close();
  await t.closed();
}

const SCENARIOS = { basic, upgrade, big, heartbeat, disconnect, reconnect };

async function main() {
  const run = SCENARIOS[opts.scenario];
  if (!run) throw new Error("unknown scenario " + opts.scenario);
  await run(opts);
}

// Print the observations and exit once they are written (stdout is
// asynchronous when it is a pipe: exiting at once could cut them short).
function finish(code) {
  process.stdout.write(JSON.stringify(facts) + "\n", () => process.exit(code));
}

const overall = setTimeout(() => {
  facts.error = "the whole scenario took too long";
  finish(1);
}, (opts.timeout * 4 + 10) * 1000);

main().then(
  () => {
    clearTimeout(overall);
    finish(0);
  },
  (err) => {
    clearTimeout(overall);
    facts.error = String(err && err.stack ? err.stack : err);
    finish(1);
  },
);
