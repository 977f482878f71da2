#!/usr/bin/env node
/**
 * Node `engine.io` (v6) peer server for the rtproto engine.io benchmark
 * (bench/engineio/run.py).
 *
 * Serves an engine.io echo on http://127.0.0.1:PORT/engine.io/ with a plain
 * `http` server: every message a client sends is sent back to it (text as
 * text, binary as binary).  Polling and websocket transports, upgrades
 * allowed, protocol v4 and (allowEIO3) v3, as rtproto serves both.
 *
 * Settings shared with the other servers of the benchmark: pingInterval
 * 25 s, pingTimeout 20 s, maxHttpBufferSize 1e6, perMessageDeflate off,
 * httpCompression off, TCP_NODELAY on, listen backlog 1024.
 *
 * Usage: node node_server.js --port PORT
 */
'use strict';

const http = require('http');
const engine = require('engine.io');

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('usage: node node_server.js --port PORT\n');
    process.exit(2);
  }
  return port;
}

function main() {
  const port = parsePort(process.argv);
  const httpServer = http.createServer({ noDelay: true });
  const server = new engine.Server({
    pingInterval: 25000,
    pingTimeout: 20000,
    maxHttpBufferSize: 1e6,
    perMessageDeflate: false,
    httpCompression: false,
    transports: ['polling', 'websocket'],
    allowUpgrades: true,
    allowEIO3: true,
  });
  server.attach(httpServer, { path: '/engine.io/' });
  server.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(data));
  });
  httpServer.listen({ port, host: '127.0.0.1', backlog: 1024 });
  const stop = () => { server.close(); httpServer.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
