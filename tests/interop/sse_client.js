// An SSE client peer for the interop tests: runs one named scenario with
// the npm `eventsource` package (v4: the WHATWG EventSource on fetch, what
// Node apps and browser polyfill users run) against a server serving the
// SSE test application (specified in the header of sse_server.js) and
// prints one JSON line of observations on stdout; the Python tests judge
// them.
//
//   node sse_client.js SCENARIO URL [--channel a,b] [--token T]
//       [--cases FILE] [--close-after MS] [--count N] [--subscribers N]
//       [--size BYTES] [--interval MS] [--last-event-id ID]
//       [--reconnects N] [--timeout SECONDS]
//
// URL is the server's base (http://127.0.0.1:PORT); the stream is at
// /events, the publish endpoint at /events/publish (token --token, default
// "secret").  The scenarios publish what they need themselves, over HTTP,
// once their streams are open.  eventsource v4's API as used here: request
// headers (Authorization, a first Last-Event-ID) through its `fetch`
// option; it sends Last-Event-ID itself on its reconnections and honours
// `retry:` (its default is 3000 ms); a non-200 answer fails the connection
// (readyState CLOSED, an `error` event with `code`), the end of a 200
// stream makes it reconnect.  Typed events only reach listeners of their
// type, so the scenarios listen to every type they may get.
//
// Scenarios (SCENARIOS below): events, channels, retry, replay, storm,
// missed, auth, fanout.  Every wait is bounded (--timeout, default 15 s, per
// wait) and so is the whole run.  Exit status 0 when the scenario ran to
// its end (the observations may still show failures), 1 when it stopped on
// an error (the JSON line then has "error").
"use strict";

const fs = require("fs");
const { performance } = require("perf_hooks");
const { EventSource } = require("eventsource");

function parseArgs(argv) {
  const positional = [];
  const o = {
    channels: [],
    token: "secret",
    cases: null,
    closeAfter: 1000,
    count: 10,
    subscribers: 1,
    size: 0,
    interval: 50,
    lastEventId: null,
    reconnects: 2,
    timeout: 15,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(a + " needs a value");
      return argv[++i];
    };
    if (a === "--channel") o.channels = value().split(",").filter(Boolean);
    else if (a === "--token") o.token = value();
    else if (a === "--cases") o.cases = JSON.parse(fs.readFileSync(value(), "utf8"));
    else if (a === "--close-after") o.closeAfter = Number(value());
    else if (a === "--count") o.count = Number(value());
    else if (a === "--subscribers") o.subscribers = Number(value());
    else if (a === "--size") o.size = Number(value());
    else if (a === "--interval") o.interval = Number(value());
    else if (a === "--last-event-id") o.lastEventId = value();
    else if (a === "--reconnects") o.reconnects = Number(value());
    else if (a === "--timeout") o.timeout = Number(value());
    else if (a.startsWith("--")) throw new Error("unknown option " + a);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new Error("usage: sse_client.js SCENARIO URL [options]");
  [o.scenario, o.base] = positional;
  if (!SCENARIOS[o.scenario]) throw new Error("unknown scenario " + o.scenario);
  return o;
}

const t0 = performance.now();
function now() {
  return Math.round((performance.now() - t0) * 10) / 10;
}

// A promise bounded to `seconds`, rejected with a message naming `what`.
function bounded(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds}s waiting for ${what}`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The stream URL for `channels` plus extra query parameters.
function streamUrl(o, channels, extra = {}) {
  const url = new URL("/events", o.base);
  for (const c of channels) url.searchParams.append("channel", c);
  for (const [k, v] of Object.entries(extra)) url.searchParams.append(k, String(v));
  return url.href;
}

// POST one event to the publish endpoint; its id.
async function publish(o, channel, data, extra = {}) {
  const res = await fetch(new URL("/events/publish", o.base), {
    method: "POST",
    headers: { Authorization: `Bearer ${o.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ channel, data, ...extra }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`publish to ${channel} answered ${res.status}: ${text}`);
  return JSON.parse(text).id;
}

// One EventSource and everything it saw: every event of the listened types
// ({type, data, id, at}), opens, errors (stream ends and failures, with
// the readyState after them) and every request it made (when, and the
// Last-Event-ID it carried).
class Client {
  constructor(url, { headers = {}, firstLastEventId = null, types = ["message"] } = {}) {
    this.events = [];
    this.opens = [];
    this.errors = [];
    this.requests = [];
    this.waiters = [];
    const client = this;
    const fetchWith = (input, init) => {
      const merged = { ...init.headers, ...headers };
      // the library sends Last-Event-ID on reconnections; a first one
      // (an id remembered from elsewhere) is ours to add
      if (firstLastEventId !== null && client.requests.length === 0) merged["Last-Event-ID"] = firstLastEventId;
      client.requests.push({ at: now(), lastEventId: merged["Last-Event-ID"] ?? null });
      return fetch(input, { ...init, headers: merged });
    };
    this.es = new EventSource(url, { fetch: fetchWith });
    this.es.addEventListener("open", () => {
      this.opens.push(now());
      this.changed();
    });
    this.es.addEventListener("error", (e) => {
      this.errors.push({ at: now(), code: e.code ?? null, message: e.message ?? null, readyState: this.es.readyState });
      this.changed();
    });
    for (const type of new Set(types)) {
      this.es.addEventListener(type, (e) => {
        this.events.push({ type: e.type, data: e.data, id: e.lastEventId, at: now() });
        this.changed();
      });
    }
  }

  changed() {
    for (const w of this.waiters.slice()) w();
  }

  // Wait (bounded) until check() is truthy.
  until(check, seconds, what) {
    if (check()) return Promise.resolve();
    let waiter;
    const p = new Promise((resolve) => {
      waiter = () => {
        if (check()) resolve();
      };
      this.waiters.push(waiter);
    });
    return bounded(p, seconds, what).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  hasId(id) {
    return this.events.some((e) => e.id === id);
  }

  failed() {
    return this.es.readyState === EventSource.CLOSED;
  }

  close() {
    this.es.close();
  }

  summary() {
    return {
      events: this.events,
      opens: this.opens,
      errors: this.errors,
      requests: this.requests,
    };
  }
}

// --- scenarios -------------------------------------------------------------

// Subscribe (to --channel, or to nothing: the default channels), publish
// the --cases in order ({event?, data, id?} each), wait for the last one.
async function events(o, facts) {
  const types = ["message", ...o.cases.map((c) => c.event).filter(Boolean)];
  const c = new Client(streamUrl(o, o.channels), { types });
  await c.until(() => c.opens.length, o.timeout, "the stream to open");
  const target = o.channels[0] || "default";
  facts.published = [];
  for (const item of o.cases) facts.published.push(await publish(o, target, item.data, item));
  const last = facts.published[facts.published.length - 1];
  await c.until(() => c.hasId(last), o.timeout, "the last event");
  c.close();
  Object.assign(facts, c.summary());
}

// Four subscribers (A and B, A, B, none: the default channel) and events
// published to A, B, C and default in turns; then an end marker to each of
// A, B and default, which each subscriber waits for on its channels.
async function channels(o, facts) {
  const [A, B, C] = o.channels;
  const subs = { ab: [A, B], a: [A], b: [B], none: [] };
  const clients = {};
  for (const [name, chs] of Object.entries(subs)) clients[name] = new Client(streamUrl(o, chs));
  for (const c of Object.values(clients)) await c.until(() => c.opens.length, o.timeout, "the streams to open");
  facts.published = [];
  for (let i = 0; i < o.count; i++) {
    for (const ch of [A, B, C, "default"]) {
      const data = `${ch}:${i}`;
      facts.published.push({ channel: ch, data, id: await publish(o, ch, data) });
    }
  }
  const ends = {};
  for (const ch of [A, B, "default"]) ends[ch] = await publish(o, ch, `${ch}:end`);
  facts.endIds = ends;
  for (const [name, chs] of Object.entries(subs)) {
    const wanted = (chs.length ? chs : ["default"]).map((ch) => ends[ch]);
    const c = clients[name];
    await c.until(() => wanted.every((id) => c.hasId(id)), o.timeout, `the end markers of ${name}`);
  }
  facts.received = {};
  for (const [name, c] of Object.entries(clients)) {
    c.close();
    facts.received[name] = c.summary().events;
  }
}

// A stream the server ends --close-after ms after it opened: the library
// reconnects after the server's retry; --reconnects of them are timed.
async function retry(o, facts) {
  const c = new Client(streamUrl(o, o.channels, { closeAfterMs: o.closeAfter }));
  const wanted = o.reconnects + 1;
  await c.until(() => c.opens.length >= wanted, o.timeout + wanted * 5, `${wanted} opens`);
  c.close();
  Object.assign(facts, c.summary());
}

// Reconnection with Last-Event-ID by the library itself: a stream on
// --channel's first two channels that the server ends after --close-after
// ms.  On each open a batch is published (live), on each end another one
// (while disconnected: the library waits the retry time), rotating over the
// three --channel channels (the third one not subscribed); after
// --reconnects reconnections, a last batch, and then an end marker to each
// subscribed channel, waited for.
async function replay(o, facts) {
  const [A, B, C] = o.channels;
  const rotation = [A, B, C];
  const c = new Client(streamUrl(o, [A, B], { closeAfterMs: o.closeAfter }));
  facts.published = [];
  facts.batches = [];
  let n = 0;
  const batch = async (kind) => {
    const entry = { kind, opensBefore: c.opens.length, start: now(), end: null };
    facts.batches.push(entry);
    for (let i = 0; i < o.count; i++) {
      const ch = rotation[n % 3];
      const data = `${ch}:${n}`;
      n += 1;
      facts.published.push({ channel: ch, data, id: await publish(o, ch, data) });
    }
    entry.end = now();
  };
  for (let k = 1; k <= o.reconnects + 1; k++) {
    await c.until(() => c.opens.length >= k, o.timeout, `open ${k}`);
    await batch("live");
    if (k === o.reconnects + 1) break;
    await c.until(() => c.errors.length >= k, o.timeout, `the end of stream ${k}`);
    await batch("disconnected");
  }
  const ends = [await publish(o, A, `${A}:end`), await publish(o, B, `${B}:end`)];
  facts.endIds = ends;
  await c.until(() => ends.every((id) => c.hasId(id)), o.timeout, "the end markers");
  c.close();
  Object.assign(facts, c.summary());
}

// --count events published every --interval ms on --channel while the
// server ends the stream every --close-after ms: every event arrives once,
// in order, across the reconnections.
async function storm(o, facts) {
  const [A] = o.channels;
  const c = new Client(streamUrl(o, [A], { closeAfterMs: o.closeAfter }));
  await c.until(() => c.opens.length, o.timeout, "the stream to open");
  facts.published = [];
  for (let i = 0; i < o.count; i++) {
    facts.published.push({ channel: A, data: `${A}:${i}`, id: await publish(o, A, `${A}:${i}`) });
    await new Promise((resolve) => setTimeout(resolve, o.interval)); // pacing the publisher, not waiting for anything
  }
  const last = facts.published[facts.published.length - 1].id;
  await c.until(() => c.hasId(last), o.timeout, "the last event");
  c.close();
  Object.assign(facts, c.summary());
}

// Connect to --channel with a first Last-Event-ID (--last-event-id),
// listening for "missed" too; once open, publish --count live events and
// wait for the last.
async function missed(o, facts) {
  const [A] = o.channels;
  const c = new Client(streamUrl(o, [A]), { firstLastEventId: o.lastEventId, types: ["message", "missed"] });
  await c.until(() => c.opens.length, o.timeout, "the stream to open");
  facts.published = [];
  for (let i = 0; i < o.count; i++) facts.published.push(await publish(o, A, `live:${i}`));
  const last = facts.published[facts.published.length - 1];
  await c.until(() => c.hasId(last), o.timeout, "the last live event");
  c.close();
  Object.assign(facts, c.summary());
}

// The "private" channel: without Authorization, with a wrong token, with
// the right one, and without Authorization together with another channel.
// Each either fails (its error code) or opens; one event is then published
// to "private" and the open ones wait for it.
async function auth(o, facts) {
  const cases = {
    none: [["private"], {}],
    wrong: [["private"], { Authorization: "Bearer nope" }],
    right: [["private"], { Authorization: "Bearer letmein" }],
    mixedNone: [[o.channels[0] || "default", "private"], {}],
  };
  const clients = {};
  for (const [name, [chs, headers]] of Object.entries(cases)) clients[name] = new Client(streamUrl(o, chs), { headers });
  for (const [name, c] of Object.entries(clients)) {
    await c.until(() => c.opens.length || c.failed(), o.timeout, `${name} to open or fail`);
  }
  const id = await publish(o, "private", "for your eyes only");
  facts.published = [id];
  for (const [name, c] of Object.entries(clients)) {
    if (c.opens.length) await c.until(() => c.hasId(id), o.timeout, `the private event on ${name}`);
  }
  facts.clients = {};
  for (const [name, c] of Object.entries(clients)) {
    facts.clients[name] = { ...c.summary(), readyState: c.es.readyState };
    c.close();
  }
}

// --subscribers EventSources on --channel, all open before --count events
// (of --size characters of data each, at least their index) are published
// one after the other; every subscriber waits for the last.  Reports each
// subscriber's ids, how many data differed from what was published for
// that id, and the largest delay from a publish request to a subscriber
// receiving it.
async function fanout(o, facts) {
  const [A] = o.channels;
  const clients = [];
  for (let i = 0; i < o.subscribers; i++) clients.push(new Client(streamUrl(o, [A])));
  facts.openedAt = null;
  await bounded(
    Promise.all(clients.map((c) => c.until(() => c.opens.length, o.timeout * 2, "open"))),
    o.timeout * 2,
    `${o.subscribers} streams to open`,
  );
  facts.openedAt = now();
  const published = [];
  const filler = "x".repeat(Math.max(0, o.size));
  for (let i = 0; i < o.count; i++) {
    const data = `${i}:${filler}`.slice(0, Math.max(o.size, String(i).length + 1));
    const start = now();
    published.push({ id: await publish(o, A, data), data, start });
  }
  facts.publishedAt = now();
  const last = published[published.length - 1].id;
  await bounded(
    Promise.all(clients.map((c) => c.until(() => c.hasId(last), o.timeout * 4, "the last event"))),
    o.timeout * 4,
    "every subscriber to get the last event",
  );
  facts.doneAt = now();
  const byId = new Map(published.map((p) => [p.id, p]));
  facts.expected = published.map((p) => p.id);
  facts.subscribers = clients.map((c) => {
    c.close();
    let maxLatency = 0;
    let wrongData = 0;
    for (const e of c.events) {
      const p = byId.get(e.id);
      if (!p || p.data !== e.data) wrongData += 1;
      if (p) maxLatency = Math.max(maxLatency, e.at - p.start);
    }
    return { ids: c.events.map((e) => e.id), wrongData, maxLatencyMs: maxLatency, opens: c.opens.length, errors: c.errors };
  });
}

const SCENARIOS = { events, channels, retry, replay, storm, missed, auth, fanout };

const facts = {};

// Print the observations and exit once they are written (stdout is
// asynchronous when it is a pipe: exiting at once could cut them short).
function finish(code) {
  process.stdout.write(JSON.stringify(facts) + "\n", () => process.exit(code));
}

function fail(err) {
  facts.error = String(err && err.stack ? err.stack : err);
  finish(1);
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  fail(err);
}

if (opts) {
  facts.scenario = opts.scenario;
  const overall = setTimeout(() => fail("the whole scenario took too long"), (opts.timeout * 8 + 30) * 1000);
  SCENARIOS[opts.scenario](opts, facts).then(
    () => {
      clearTimeout(overall);
      finish(0);
    },
    (err) => {
      clearTimeout(overall);
      fail(err);
    },
  );
}
