// A socket.io client peer for the interop tests: runs one named scenario
// with socket.io-client v4 or 2.x against a server running the test
// application (the specification is the header of sio_server.js) and
// prints one JSON line of observations on stdout; the Python tests judge
// them.
//
//   node sio_client.js SCENARIO URL [--client v4|v2]
//       [--transports polling,websocket] [--timeout SECONDS]
//
// v4 is socket.io-client 4.x (engine.io protocol 4, socket.io protocol 5),
// v2 is socket.io-client 2.x (the sio-client-v2 alias: engine.io protocol 3,
// socket.io protocol 4).  Scenarios: see SCENARIOS below (sio_scenarios.js
// and sio_sessions.js).  Every wait is bounded (--timeout, default 15 s,
// per wait) and so is the whole run.  Exit status 0 when the scenario ran
// to its end (the observations may still show failures), 1 when it stopped
// on an error (the JSON line then has "error").
"use strict";

const scenarios = require("./sio_scenarios.js");
const sessions = require("./sio_sessions.js");

const SCENARIOS = {
  basic: scenarios.basic,
  upgrade: scenarios.upgrade,
  big: scenarios.big,
  "ack-timeout": scenarios.ackTimeout,
  namespaces: scenarios.namespaces,
  auth: scenarios.auth,
  rooms: sessions.rooms,
  "server-disconnect": sessions.serverDisconnect,
  reconnect: sessions.reconnect,
  recovery: sessions.recovery,
};

function parseArgs(argv) {
  const positional = [];
  const o = { client: "v4", transports: ["polling", "websocket"], timeout: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--client") o.client = argv[++i];
    else if (a === "--transports") o.transports = argv[++i].split(",");
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else if (a.startsWith("--")) throw new Error("unknown option " + a);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new Error("usage: sio_client.js SCENARIO URL [options]");
  [o.scenario, o.url] = positional;
  if (o.client !== "v4" && o.client !== "v2") throw new Error("--client must be v4 or v2");
  if (!SCENARIOS[o.scenario]) throw new Error("unknown scenario " + o.scenario);
  return o;
}

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
  Object.assign(facts, { scenario: opts.scenario, client: opts.client, transports: opts.transports });
  const overall = setTimeout(() => fail("the whole scenario took too long"), (opts.timeout * 4 + 10) * 1000);
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
