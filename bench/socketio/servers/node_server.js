#!/usr/bin/env node
/**
 * Node `socket.io` (v4) peer server for the rtproto socket.io benchmark
 * (bench/socketio/run.py).
 *
 * Serves the benchmark app of bench/socketio/README.md on
 * http://127.0.0.1:PORT/socket.io/ with a plain `http` server, namespace "/":
 *
 *   "join-bench"(cb)        join room "bench", then cb()
 *   "fanout"(payload, cb)   emit "msg"(payload) to room "bench", then cb()
 *   "echo-ack"(payload, cb) cb(payload)
 *
 * Settings shared with the other servers of the benchmark: pingInterval
 * 25 s, pingTimeout 20 s, maxHttpBufferSize 1e6, perMessageDeflate off,
 * httpCompression off, polling and websocket transports, no client bundle
 * served, TCP_NODELAY on, listen backlog 1024.  The default in-memory
 * adapter.
 *
 * Usage: node node_server.js --port PORT
 */
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const ROOM = 'bench';

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('usage: node node_server.js --port PORT\n');
    process.exit(2);
  }
  return port;
}

/** The last argument if it is a function (the client asked for an ack). */
function ackOf(args) {
  const last = args[args.length - 1];
  return typeof last === 'function' ? last : null;
}

function main() {
  const port = parsePort(process.argv);
  const httpServer = http.createServer({ noDelay: true });
  const io = new Server(httpServer, {
    path: '/socket.io/',
    serveClient: false,
    pingInterval: 25000,
    pingTimeout: 20000,
    maxHttpBufferSize: 1e6,
    perMessageDeflate: false,
    httpCompression: false,
    transports: ['polling', 'websocket'],
    allowUpgrades: true,
  });
  io.on('connection', (socket) => {
    socket.on('join-bench', (...args) => {
      socket.join(ROOM);
      const cb = ackOf(args);
      if (cb) cb();
    });
    socket.on('fanout', (...args) => {
      const cb = ackOf(args);
      io.to(ROOM).emit('msg', args[0]);
      if (cb) cb();
    });
    socket.on('echo-ack', (...args) => {
      const cb = ackOf(args);
      if (cb) cb(args[0]);
    });
  });
  httpServer.listen({ port, host: '127.0.0.1', backlog: 1024 });
  const stop = () => { io.close(); httpServer.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
