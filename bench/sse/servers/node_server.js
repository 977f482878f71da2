#!/usr/bin/env node
/**
 * A minimal Node Server-Sent Events server (plain `http`, no dependencies),
 * the Node peer of rtproto's side-by-side SSE benchmark
 * (bench/sse/run.py).  It serves the bench app of bench/sse/README.md on
 * http://127.0.0.1:PORT/:
 *
 *   GET  /events?channel=NAME   200 text/event-stream; writes
 *                               "retry: 3000\n\n" at once, then every event
 *                               published to NAME as
 *                               "id: <id>\nevent: msg\ndata: <line>\n...\n\n"
 *   POST /publish               body = the payload (UTF-8 text); publishes it
 *                               to channel "bench" and answers 200 with the
 *                               event id (text/plain) once it has been
 *                               written to every subscriber's socket
 *
 * An event is encoded once and written to each subscriber with one
 * `res.write` (chunked transfer coding, as for any HTTP/1.1 response without
 * a length).  A keep-alive comment (": keep-alive\n\n") goes to every
 * subscriber every 15 s, as the other servers do.  A subscriber whose
 * unsent output passes 1 MiB is dropped (bounded buffers), and a request
 * body is limited to 1 MiB.  TCP_NODELAY on, listen backlog 1024, no access
 * log, 127.0.0.1 only.
 *
 * Usage: node node_server.js --port PORT
 */
'use strict';

const http = require('http');

const PUBLISH_CHANNEL = 'bench';
const RETRY_MS = 3000;
const KEEPALIVE_S = 15;
const MAX_BODY = 1 << 20;
const MAX_PENDING = 1 << 20;

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('usage: node node_server.js --port PORT\n');
    process.exit(2);
  }
  return port;
}

/** The wire form of one event: "data:" once per line (split on CR, LF, CRLF). */
function encodeEvent(id, event, data) {
  const lines = data.split(/\r\n|\r|\n/);
  let out = `id: ${id}\nevent: ${event}\n`;
  for (const line of lines) out += `data: ${line}\n`;
  return Buffer.from(out + '\n', 'utf8');
}

function main() {
  const port = parsePort(process.argv);
  const channels = new Map();  // name -> Set of ServerResponse
  let lastId = 0;

  function subscribe(req, res, channel) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    let set = channels.get(channel);
    if (!set) { set = new Set(); channels.set(channel, set); }
    set.add(res);
    const leave = () => {
      set.delete(res);
      if (set.size === 0 && channels.get(channel) === set) channels.delete(channel);
    };
    req.on('close', leave);
    res.on('close', leave);
  }

  function publish(data) {
    const id = String(++lastId);
    const frame = encodeEvent(id, 'msg', data);
    const set = channels.get(PUBLISH_CHANNEL);
    if (set) {
      for (const res of set) {
        if (res.writableLength > MAX_PENDING) { res.destroy(); continue; }
        res.write(frame);
      }
    }
    return id;
  }

  const server = http.createServer({ noDelay: true }, (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/events') {
      subscribe(req, res, url.searchParams.get('channel') || PUBLISH_CHANNEL);
    } else if (req.method === 'POST' && url.pathname === '/publish') {
      const parts = [];
      let size = 0;
      req.on('data', (d) => {
        size += d.length;
        if (size > MAX_BODY) { res.writeHead(413).end(); req.destroy(); return; }
        parts.push(d);
      });
      req.on('end', () => {
        if (size > MAX_BODY) return;
        const id = publish(Buffer.concat(parts).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(id);
      });
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  const comment = Buffer.from(': keep-alive\n\n');
  const keepalive = setInterval(() => {
    for (const set of channels.values()) for (const res of set) res.write(comment);
  }, KEEPALIVE_S * 1000);
  server.listen({ port, host: '127.0.0.1', backlog: 1024 });
  const stop = () => {
    clearInterval(keepalive);
    for (const set of channels.values()) for (const res of set) res.destroy();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
