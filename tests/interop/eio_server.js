// The reference engine.io server (npm engine.io v6, EIO4 and, with
// allowEIO3, EIO3) running the command application of eio_commands.js: a
// test peer used to check that the interop clients' scripts are right.
//
//   node eio_server.js --port N [--ping-interval S] [--ping-timeout S]
//       [--max-http-buffer-size BYTES] [--transports polling,websocket]
//       [--no-upgrades] [--no-eio3]
//
// Listens on 127.0.0.1 only, serves /engine.io/, prints one JSON line
// {"event": "listening", "port": N} and runs until stdin closes or it is
// signalled.
"use strict";

const http = require("http");
const engine = require("engine.io");
const { attach } = require("./eio_commands.js");

function parseArgs(argv) {
  const opts = {
    port: 0,
    pingInterval: 25,
    pingTimeout: 20,
    maxHttpBufferSize: 1e6,
    transports: ["polling", "websocket"],
    allowUpgrades: true,
    allowEIO3: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(a + " needs a value");
      return argv[++i];
    };
    if (a === "--port") opts.port = Number(value());
    else if (a === "--ping-interval") opts.pingInterval = Number(value());
    else if (a === "--ping-timeout") opts.pingTimeout = Number(value());
    else if (a === "--max-http-buffer-size") opts.maxHttpBufferSize = Number(value());
    else if (a === "--transports") opts.transports = value().split(",");
    else if (a === "--no-upgrades") opts.allowUpgrades = false;
    else if (a === "--no-eio3") opts.allowEIO3 = false;
    else throw new Error("unknown option " + a);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const server = new engine.Server({
  pingInterval: Math.round(opts.pingInterval * 1000),
  pingTimeout: Math.round(opts.pingTimeout * 1000),
  maxHttpBufferSize: opts.maxHttpBufferSize,
  transports: opts.transports,
  allowUpgrades: opts.allowUpgrades,
  allowEIO3: opts.allowEIO3,
});
server.attach(httpServer, { path: "/engine.io/" });
server.on("connection", attach);

httpServer.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ event: "listening", port: httpServer.address().port }) + "\n");
});

function stop() {
  server.close();
  httpServer.close();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
