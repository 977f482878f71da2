// The reference socket.io server of the socket.io interop tests (npm
// socket.io v4, with allowEIO3 so that socket.io-client 2.x connects too),
// running the test application specified below.  rtproto runs the same
// application (tests/interop/sio_app.py, mounted by sio_support.py's
// rtprotoCommand); this comment is the specification of both: keep them in
// step.
//
//   node sio_server.js --port N [--ping-interval S] [--ping-timeout S]
//       [--max-http-buffer-size BYTES]
//
// Listens on 127.0.0.1 only, serves /socket.io/, prints one JSON line
// {"event": "listening", "port": N} and runs until stdin closes or it is
// signalled.
//
// THE TEST APPLICATION
//
// Server settings: path /socket.io/; engine.io protocols 4 and 3 (EIO3
// clients are socket.io-client 2.x: the server connects them to "/" at
// once, and a namespace CONNECT "/nsp?k=v" gives handshake.auth {k: "v"});
// connection state recovery enabled, maxDisconnectionDuration 120000 ms,
// skipMiddlewares true.
//
// Offsets (a consequence of connection state recovery, observable by every
// client): every EVENT the server sends without an ack id -- socket.emit
// to one socket, and every broadcast -- carries one extra, last argument: a
// string offset, unique per packet (the v4 client records the last one and
// sends it back as "offset", with "pid", in its CONNECT on reconnection).
// Events sent with an ack id ("request-ack", "broadcast-ack") and ACK
// packets carry none.  Below, "emit E with ARGS" means ARGS plus that offset.
//
// Namespaces: "/", "/other", "/auth", and the dynamic namespaces matching
// /^\/dyn-\w+$/ all have the handlers below.  Any other namespace is
// refused with CONNECT_ERROR {"message": "Invalid namespace"} (to an EIO3
// client: an ERROR packet with that same object); the connection and its
// other namespaces are unaffected.  "/auth" first runs a middleware that
// accepts when handshake.auth.token === "secret", else refuses with the
// error "not authorized" and data {code: 401}: CONNECT_ERROR {"message":
// "not authorized", "data": {"code": 401}} (to an EIO3 client: ERROR with
// just the data, {"code": 401}).
//
// Handlers (cb is the client's ack callback, the last argument):
//   "echo"(...args): emit "echo" with args to this socket.
//   "ack"(...args, cb): cb(...args).
//   "request-ack"(event, ...args): emit `event` with args to this socket
//       with an ack and a 5 s timeout; then emit "ack-result" with
//       {response: [...the ack's arguments]}, or {error: "timeout"}.
//   "join"(room, cb): join room, cb(true).  "leave"(room, cb): leave, cb(true).
//   "rooms"(cb): cb(the socket's rooms, its own sid included, sorted).
//   "to-room"(room, event, ...args): socket.to(room).emit(event, ...args)
//       (to the room, the sender excluded).
//   "to-room-all"(room, event, ...args): nsp.to(room).emit(event, ...args)
//       (the sender included if it is in the room).
//   "broadcast-except"(room, exceptRoom, event, ...args):
//       nsp.to(room).except(exceptRoom).emit(event, ...args).
//   "broadcast-ack"(room, event, ...args, cb): emit `event` with args to the
//       room (sender included) with an ack and a 5 s timeout, then
//       cb({error: null or the error's message ("operation has timed out"),
//       responses: the first argument of each client's ack}), responses
//       sorted by their JSON text (they arrive in no fixed order).
//   "whoami"(cb): cb({sid: socket.id, nsp: the namespace's name,
//       recovered: whether this socket's state was recovered, auth:
//       handshake.auth}).
//   "disconnect-me"(closeAll): socket.disconnect(closeAll === true): the
//       namespace alone (DISCONNECT to the client), or with true every
//       namespace of the connection (a DISCONNECT for each), then the
//       engine.io connection.
//   "drop-transport": close the engine.io connection (socket.conn.close());
//       every namespace on it disconnects with "forced close", a
//       recoverable reason: the sessions are kept for recovery.
//   "reasons"(cb): cb(every disconnection the server has seen, in order, in
//       any namespace: {sid, nsp, reason, rooms}, rooms being the socket's
//       sorted rooms in its "disconnecting" handler, its own sid included).
//       Reasons are the Node server's: "client namespace disconnect",
//       "server namespace disconnect", "forced close", "transport close",
//       "transport error", "ping timeout".
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const opts = { port: 0, pingInterval: 25, pingTimeout: 20, maxHttpBufferSize: 1e6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(a + " needs a value");
      return Number(argv[++i]);
    };
    if (a === "--port") opts.port = value();
    else if (a === "--ping-interval") opts.pingInterval = value();
    else if (a === "--ping-timeout") opts.pingTimeout = value();
    else if (a === "--max-http-buffer-size") opts.maxHttpBufferSize = value();
    else throw new Error("unknown option " + a);
  }
  return opts;
}

const ACK_TIMEOUT = 5000;
const disconnections = []; // {sid, nsp, reason, rooms}, in order

function byJSON(a, b) {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// The last argument if it is the client's ack callback, else a no-op.
function popCallback(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : () => {};
}

function attach(socket) {
  const nsp = socket.nsp;
  socket.on("disconnecting", (reason) => {
    disconnections.push({ sid: socket.id, nsp: nsp.name, reason, rooms: [...socket.rooms].sort() });
  });
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("ack", (...args) => popCallback(args)(...args));
  socket.on("request-ack", (event, ...args) => {
    socket.timeout(ACK_TIMEOUT).emit(event, ...args, (err, ...response) => {
      socket.emit("ack-result", err ? { error: "timeout" } : { response });
    });
  });
  socket.on("join", (room, cb) => {
    socket.join(room);
    cb(true);
  });
  socket.on("leave", (room, cb) => {
    socket.leave(room);
    cb(true);
  });
  socket.on("rooms", (cb) => cb([...socket.rooms].sort()));
  socket.on("to-room", (room, event, ...args) => socket.to(room).emit(event, ...args));
  socket.on("to-room-all", (room, event, ...args) => nsp.to(room).emit(event, ...args));
  socket.on("broadcast-except", (room, exceptRoom, event, ...args) => {
    nsp.to(room).except(exceptRoom).emit(event, ...args);
  });
  socket.on("broadcast-ack", (room, event, ...rest) => {
    const cb = popCallback(rest);
    nsp
      .to(room)
      .timeout(ACK_TIMEOUT)
      .emit(event, ...rest, (err, responses) => {
        cb({ error: err ? err.message : null, responses: [...responses].sort(byJSON) });
      });
  });
  socket.on("whoami", (cb) => {
    cb({ sid: socket.id, nsp: nsp.name, recovered: !!socket.recovered, auth: socket.handshake.auth });
  });
  socket.on("disconnect-me", (closeAll) => socket.disconnect(closeAll === true));
  socket.on("drop-transport", () => socket.conn.close());
  socket.on("reasons", (cb) => cb(disconnections));
}

function requireToken(socket, next) {
  const auth = socket.handshake.auth;
  if (auth && auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  path: "/socket.io/",
  serveClient: false,
  allowEIO3: true,
  pingInterval: Math.round(opts.pingInterval * 1000),
  pingTimeout: Math.round(opts.pingTimeout * 1000),
  maxHttpBufferSize: opts.maxHttpBufferSize,
  connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true },
});
io.of("/").on("connection", attach);
io.of("/other").on("connection", attach);
io.of("/auth").use(requireToken).on("connection", attach);
io.of(/^\/dyn-\w+$/).on("connection", attach);

httpServer.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ event: "listening", port: httpServer.address().port }) + "\n");
});

function stop() {
  io.close();
  httpServer.close();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
