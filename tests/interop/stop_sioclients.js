// A peer of test_service_stop.py: two socket.io-client v4 clients on the
// namespace /chat of a running rtproto service, one over WebSocket only,
// one over HTTP long-polling only, watching what a graceful stop of the
// server does to them.
//
//   node stop_sioclients.js URL [--timeout SECONDS]
//
// Prints JSON lines on stdout, each {"client", "event", ...}:
//   {"client": "websocket"|"polling", "event": "connected", "transport"}
//       once each is connected (and {"event": "ready"} once both are);
//   {"client", "event": "disconnect", "reason"} on the socket's disconnect;
//   {"client", "event": "reconnect_attempt", "attempt"} when its Manager
//       starts a reconnection attempt (the server being gone, it fails:
//       {"client", "event": "reconnect_error", "message"});
//   {"event": "done"} once both clients were disconnected and started a
//       reconnection attempt; the clients are then closed and the peer exits 0.
// On an error or when a wait overruns --timeout: {"event": "error",
// "message"} and exit status 1.  Reconnection is prompt (0.1 s, no
// randomization) and bounded (3 attempts).
"use strict";

const { io } = require("socket.io-client");

function parseArgs(argv) {
  const o = { timeout: 15 };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--timeout") o.timeout = Number(argv[++i]);
    else positional.push(argv[i]);
  }
  if (positional.length !== 1) throw new Error("usage: stop_sioclients.js URL [--timeout SECONDS]");
  o.url = positional[0];
  return o;
}

function say(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function finish(code) {
  // stdout is asynchronous on a pipe: exit once the last line is written.
  process.stdout.write("", () => process.exit(code));
}

function fail(message) {
  say({ event: "error", message: String(message) });
  finish(1);
}

// One client; resolves "connected" on connect and "stopped" once it was
// disconnected and its Manager started a reconnection attempt.
function watch(name, url, transports) {
  const socket = io(url + "/chat", {
    transports,
    reconnectionDelay: 100,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    reconnectionAttempts: 3,
    timeout: 5000,
  });
  let onConnected, onDisconnect, onAttempt;
  const connected = new Promise((resolve) => (onConnected = resolve));
  const disconnected = new Promise((resolve) => (onDisconnect = resolve));
  const attempted = new Promise((resolve) => (onAttempt = resolve));
  socket.on("connect", () => {
    say({ client: name, event: "connected", transport: socket.io.engine.transport.name });
    onConnected();
  });
  socket.on("connect_error", (err) => say({ client: name, event: "connect_error", message: err.message }));
  socket.on("disconnect", (reason) => {
    say({ client: name, event: "disconnect", reason });
    onDisconnect();
  });
  socket.io.on("reconnect_attempt", (attempt) => {
    say({ client: name, event: "reconnect_attempt", attempt });
    onAttempt();
  });
  socket.io.on("reconnect_error", (err) => say({ client: name, event: "reconnect_error", message: err.message }));
  return { socket, connected, stopped: Promise.all([disconnected, attempted]) };
}

function bounded(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds}s waiting for ${what}`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(o) {
  const clients = [watch("websocket", o.url, ["websocket"]), watch("polling", o.url, ["polling"])];
  await bounded(Promise.all(clients.map((c) => c.connected)), o.timeout, "both clients to connect");
  say({ event: "ready" });
  await bounded(Promise.all(clients.map((c) => c.stopped)), o.timeout, "both clients to be disconnected and to try again");
  for (const c of clients) c.socket.close();
  say({ event: "done" });
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  fail(err.message);
}
if (opts) {
  // Stdin closing is the test's way of saying "stop now".
  process.stdin.on("end", () => fail("stdin closed before the end"));
  process.stdin.resume();
  main(opts).then(() => finish(0), (err) => fail(err.stack || err));
}
