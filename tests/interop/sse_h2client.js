// An HTTP/2 client for rtproto's Server-Sent Events (Node's built-in http2
// module, over TLS with the test's self-signed certificate trusted
// explicitly): opens N event streams on ONE HTTP/2 connection (more than
// the 6 a browser allows per host over HTTP/1.1), publishes events over the
// same connection, and prints one JSON line: the negotiated protocol, each
// stream's status and headers, and the events each stream received.
//
//   node sse_h2client.js URL CA_FILE STREAMS EVENTS TOKEN
"use strict";

const fs = require("fs");
const http2 = require("http2");

const [url, caFile, streamsArg, eventsArg, token] = process.argv.slice(2);
const STREAMS = Number(streamsArg);
const EVENTS = Number(eventsArg);
const facts = { streams: [], published: [] };
const deadline = setTimeout(() => finish("timed out"), 20000);

function finish(error) {
  clearTimeout(deadline);
  if (error) facts.error = error;
  process.stdout.write(JSON.stringify(facts) + "\n");
  try { session.destroy(); } catch (e) { /* already gone */ }
  process.exit(error ? 1 : 0);
}

// The WHATWG event-stream parser, enough for these tests.
function parser(onEvent) {
  let buffer = "";
  let data = [];
  let event = "message";
  let id = null;
  return (chunk) => {
    buffer += chunk;
    let match;
    while ((match = /\r\n|\r|\n/.exec(buffer)) !== null) {
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (data.length) onEvent({ event, id, data: data.join("\n") });
        data = [];
        event = "message";
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id") id = value;
      }
    }
  };
}

const session = http2.connect(url, { ca: fs.readFileSync(caFile) });
session.on("error", (e) => finish("session: " + e.message));
session.on("connect", () => {
  facts.alpn = session.alpnProtocol;
});

let opened = 0;
for (let i = 0; i < STREAMS; i++) {
  const record = { status: null, contentType: null, events: [] };
  facts.streams.push(record);
  const req = session.request({ ":path": "/events?channel=h2", accept: "text/event-stream" });
  req.setEncoding("utf8");
  req.on("response", (headers) => {
    record.status = headers[":status"];
    record.contentType = headers["content-type"];
    record.cacheControl = headers["cache-control"];
  });
  const feed = parser((e) => {
    record.events.push(e.data);
    check();
  });
  let sawRetry = false;
  req.on("data", (chunk) => {
    if (!sawRetry && chunk.includes("retry:")) {
      sawRetry = true;
      if (++opened === STREAMS) publishAll();
    }
    feed(chunk);
  });
  req.on("error", (e) => finish("stream: " + e.message));
}

function publishAll() {
  let i = 0;
  const next = () => {
    if (i >= EVENTS) return;
    const body = JSON.stringify({ channel: "h2", data: "event " + i + "\nline two", event: "h2" });
    const req = session.request({
      ":method": "POST",
      ":path": "/events/publish",
      authorization: "Bearer " + token,
      "content-type": "application/json",
    });
    let answer = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (answer += c));
    req.on("end", () => {
      facts.published.push(JSON.parse(answer).id);
      i++;
      next();
      check();
    });
    req.end(body);
  };
  next();
}

function check() {
  if (facts.published.length === EVENTS && facts.streams.every((s) => s.events.length >= EVENTS)) finish(null);
}
