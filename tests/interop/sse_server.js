// The reference Server-Sent Events server of the SSE interop tests: plain
// Node `http`, no dependencies, implementing what rtproto's SSE resource
// serves with the SSE test application (tests/interop/sse_app.py,
// TestHandler), so that the client peers (sse_client.js, sse_pyclient.py)
// and the tests (test_sse_clients.py) can be checked before, and
// independently of, rtproto.  This comment is the specification both
// servers follow; keep them in step (sse_support.py's rtprotoCommand is
// rtproto's command line).
//
//   node sse_server.js --port N [--publish-token T] [--keepalive S]
//       [--retry MS] [--history N] [--cors-origins O1,O2]
//       [--max-buffer BYTES]
//
// Listens on 127.0.0.1 only, prints one JSON line {"event": "listening",
// "port": N}, then a line "sse subscribers=N" each time the number of open
// streams changes (the leak test reads them), and runs until stdin closes or
// it is signalled.
//
// SUBSCRIBING: GET /events?channel=a&channel=b (repeatable, duplicates
// ignored; no channel: the handler's default channels, ["default"]).
//   - 200 with Content-Type "text/event-stream; charset=utf-8",
//     Cache-Control "no-cache", X-Accel-Buffering "no", no Content-Length
//     (chunked), never a Content-Encoding whatever Accept-Encoding says.
//   - The headers and "retry: RETRY\n\n" are written at once, before any
//     event; then the replay (below), then live events.
//   - An event: "id: ID\n", "event: TYPE\n" (only when the publisher gave a
//     type; without one the client's type is "message"), one "data: LINE\n"
//     per line of the payload split on CRLF, CR or LF only (an empty payload
//     is one empty line: "data: \n"; a trailing line break gives a last
//     empty line), then "\n".  What a WHATWG client receives is the payload
//     with every CRLF and CR turned into LF; nothing else changes (U+2028,
//     U+0085, VT, FF, NUL, leading spaces all pass).
//   - ": keep-alive\n\n" after --keepalive seconds without a write.
//   - A subscriber whose unsent output passes --max-buffer bytes (default
//     1 MiB) is dropped at once (its connection reset): it never delays the
//     others.
//   - A client that closes its connection is forgotten at once.
//   - Other methods on /events: 405.  Other paths: 404.
//
// IDS AND REPLAY: ids are "EPOCH-N": EPOCH is unique to this server process
// (no "-" in it), N counts every event published on any channel (1, 2, ...),
// so ids of one server increase in publish order across channels.  A
// publisher may give its own id instead (see PUBLISHING); it is then the
// event's id on the stream and in the replay index.
//   Each channel keeps its last --history events.  A request carrying
//   "Last-Event-ID: X" (or, for polyfills, the query "lastEventId=X"; the
//   header wins when both are there; an empty value counts as none) gets:
//   - when X is a retained event's id and no requested channel has dropped
//     an event newer than X from its history: exactly the retained events of
//     its channels published after X, in publish order, then live events;
//   - otherwise (another epoch, e.g. from before a restart, or expired, or
//     made up): first "event: missed\ndata: X\n\n" (no id line), then live
//     events only.
//   The replay is written and the subscriber registered in one step: no
//   event is lost or doubled between them.  A subscriber is registered
//   before its headers are sent: anything published after a client saw
//   them reaches it.
//
// THE TEST APPLICATION (tests.interop.sse_app.TestHandler):
//   - default channels ["default"];
//   - channel "private" (alone or with others) wants
//     "Authorization: Bearer letmein": none -> 401, another value -> 403;
//   - the query "closeAfterMs=N" ends that stream cleanly N ms after it
//     opened (the client then reconnects after RETRY ms).
//
// CORS (--cors-origins): a GET whose Origin is listed gets
// "Access-Control-Allow-Origin: <that origin>"; any other (or no) Origin
// gets no such header.  "Vary: Origin" is always sent.
//
// PUBLISHING: POST /events/publish with "Authorization: Bearer TOKEN" and a
// JSON object {"channel": "a", "data": "text", "event": "type", "id": "x"}
// ("event" and "id" optional) -> 200, application/json {"id": "<the event's
// id>"}.  Checked in this order: no Authorization -> 401; not exactly
// "Bearer TOKEN" -> 403; body not JSON, not an object, "channel" not a
// non-empty string, "data" not a string, "event"/"id" present but not a
// non-empty string or containing CR, LF (or NUL for "id") -> 400.  Bodies
// up to 1 MiB.
"use strict";

const crypto = require("crypto");
const http = require("http");

function parseArgs(argv) {
  const o = {
    port: 0,
    token: "secret",
    keepalive: 15,
    retry: 3000,
    history: 50,
    corsOrigins: [],
    maxBuffer: 1 << 20,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(a + " needs a value");
      return argv[++i];
    };
    if (a === "--port") o.port = Number(value());
    else if (a === "--publish-token") o.token = value();
    else if (a === "--keepalive") o.keepalive = Number(value());
    else if (a === "--retry") o.retry = Number(value());
    else if (a === "--history") o.history = Number(value());
    else if (a === "--cors-origins") o.corsOrigins = value().split(",").filter(Boolean);
    else if (a === "--max-buffer") o.maxBuffer = Number(value());
    else throw new Error("unknown option " + a);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const EPOCH = Date.now().toString(36) + crypto.randomBytes(3).toString("hex");
const DEFAULT_CHANNELS = ["default"];
const MAX_BODY = 1 << 20;

let seq = 0;
const channels = new Map(); // name -> {subscribers: Set, history: [event], evictedThrough: seq}
const index = new Map(); // id -> event, for every retained event
const streams = new Set();

function channel(name) {
  let ch = channels.get(name);
  if (!ch) {
    ch = { subscribers: new Set(), history: [], evictedThrough: 0 };
    channels.set(name, ch);
  }
  return ch;
}

function logCount() {
  process.stdout.write(`sse subscribers=${streams.size}\n`);
}

// The wire form of an event.
function encode(id, type, data) {
  let out = id === null ? "" : `id: ${id}\n`;
  if (type) out += `event: ${type}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

class Stream {
  constructor(req, res, names) {
    this.res = res;
    this.names = names;
    this.closed = false;
    this.keepalive = setTimeout(() => this.write(": keep-alive\n\n"), opts.keepalive * 1000);
    this.closer = null;
    res.on("close", () => this.forget());
  }

  write(text) {
    if (this.closed) return;
    this.res.write(text);
    this.keepalive.refresh();
    if (this.res.writableLength > opts.maxBuffer) {
      // a subscriber that does not read: drop it, never wait for it
      process.stdout.write(`sse dropping a slow subscriber (${this.res.writableLength} bytes unsent)\n`);
      this.res.socket.resetAndDestroy();
      this.forget();
    }
  }

  forget() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepalive);
    if (this.closer) clearTimeout(this.closer);
    for (const name of this.names) {
      const ch = channels.get(name);
      if (ch) ch.subscribers.delete(this);
    }
    streams.delete(this);
    logCount();
  }
}

// The events after `lastId` in `names`, or null if they cannot be known.
function replayAfter(lastId, names) {
  const last = index.get(lastId);
  if (!last) return null;
  const events = [];
  for (const name of names) {
    const ch = channels.get(name);
    if (!ch) continue;
    if (ch.evictedThrough > last.seq) return null;
    for (const e of ch.history) if (e.seq > last.seq) events.push(e);
  }
  return events.sort((a, b) => a.seq - b.seq);
}

function subscribe(req, res, url) {
  const names = [...new Set(url.searchParams.getAll("channel"))];
  if (names.length === 0) names.push(...DEFAULT_CHANNELS);
  const headers = {};
  if (opts.corsOrigins.length) {
    headers["Vary"] = "Origin";
    const origin = req.headers.origin;
    if (origin && opts.corsOrigins.includes(origin)) headers["Access-Control-Allow-Origin"] = origin;
  }
  if (names.includes("private")) {
    const auth = req.headers.authorization;
    if (auth === undefined) return reply(res, 401, "authorization required\n", headers);
    if (auth !== "Bearer letmein") return reply(res, 403, "forbidden\n", headers);
  }
  const lastId = req.headers["last-event-id"] || url.searchParams.get("lastEventId") || "";
  res.writeHead(200, {
    ...headers,
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
  });
  const stream = new Stream(req, res, names);
  streams.add(stream);
  logCount();
  stream.write(`retry: ${opts.retry}\n\n`);
  if (lastId) {
    const replay = replayAfter(lastId, names);
    if (replay === null) stream.write(encode(null, "missed", lastId));
    else for (const e of replay) stream.write(e.text);
  }
  if (stream.closed) return;
  for (const name of names) channel(name).subscribers.add(stream);
  const after = url.searchParams.get("closeAfterMs");
  if (after !== null && /^\d+$/.test(after)) {
    stream.closer = setTimeout(() => {
      stream.forget();
      res.end();
    }, Number(after));
  }
}

function reply(res, status, body, headers = {}) {
  const type = typeof body === "string" ? "text/plain; charset=utf-8" : "application/json";
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": type, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function badField(value, allowNul) {
  return typeof value !== "string" || value === "" || /[\r\n]/.test(value) || (!allowNul && value.includes("\0"));
}

function publish(req, res) {
  const auth = req.headers.authorization;
  if (auth === undefined) return reply(res, 401, { error: "authorization required" });
  if (auth !== `Bearer ${opts.token}`) return reply(res, 403, { error: "forbidden" });
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      reply(res, 413, { error: "too large" });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (size > MAX_BODY) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      return reply(res, 400, { error: "not JSON" });
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return reply(res, 400, { error: "not an object" });
    if (typeof body.channel !== "string" || body.channel === "") return reply(res, 400, { error: "bad channel" });
    if (typeof body.data !== "string") return reply(res, 400, { error: "bad data" });
    if (body.event !== undefined && badField(body.event, true)) return reply(res, 400, { error: "bad event" });
    if (body.id !== undefined && badField(body.id, false)) return reply(res, 400, { error: "bad id" });
    seq += 1;
    const id = body.id !== undefined ? body.id : `${EPOCH}-${seq}`;
    const event = { seq, id, text: encode(id, body.event, body.data) };
    const ch = channel(body.channel);
    ch.history.push(event);
    index.set(id, event);
    while (ch.history.length > opts.history) {
      const old = ch.history.shift();
      ch.evictedThrough = old.seq;
      if (index.get(old.id) === old) index.delete(old.id);
    }
    for (const stream of [...ch.subscribers]) stream.write(event.text);
    reply(res, 200, { id });
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/events") {
    if (req.method !== "GET") return reply(res, 405, "method not allowed\n", { Allow: "GET" });
    return subscribe(req, res, url);
  }
  if (url.pathname === "/events/publish") {
    if (req.method !== "POST") return reply(res, 405, "method not allowed\n", { Allow: "POST" });
    return publish(req, res);
  }
  reply(res, 404, "not found\n");
});
server.keepAliveTimeout = 30000;

server.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ event: "listening", port: server.address().port }) + "\n");
});

function stop() {
  process.exit(0);
}

process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
