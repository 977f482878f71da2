// The single-client scenarios of sio_client.js: basic (echo of every JSON
// type and of nested binaries, acks both ways), upgrade (200 echoes in
// flight across the polling -> WebSocket upgrade), big (1 MiB payloads),
// ack-timeout (the server's 5 s ack timeout), namespaces (several on one
// connection, a dynamic one, an unknown one) and auth (the /auth
// middleware).  Each takes the options and the observations object it
// fills in; the Python tests judge the observations.
"use strict";

const { Conn, compare, binaryTypes, sha256, canonText } = require("./sio_peer.js");
const { asciiText, unicodeText, binaryData } = require("./eio_commands.js");

function nested(depth) {
  let v = "bottom";
  for (let i = 0; i < depth; i++) v = i % 2 ? { level: i, next: v } : [i, v];
  return v;
}

// [name, arguments] echoed by "echo" and answered by "ack".
const JSON_CASES = [
  ["no arguments", []],
  ["null", [null]],
  ["booleans", [true, false]],
  ["numbers", [0, -1, 1.5, -0.25, 9007199254740991, -9007199254740991, 1e300, 5e-324]],
  ["strings", ["", "hello", "with \"quotes\", \\backslashes\\ and\nnewlines\t"]],
  ["unicode", [unicodeText(33), "é€中", "😀👍🏽🇫🇷", "\u2028\u2029", "\u0000", "\ufeffbom"]],
  [
    "strings that look like packets",
    ['2["echo","x"]', '42/other,7["a"]', '451-["a",{"_placeholder":true,"num":0}]', "0", "1", "3", "40", "6", "b4AQID", '4{"message":"x"}', "/other,"],
  ],
  ["arrays", [[], [1, [2, [3, []]]], ["a", null, true, 1.5]]],
  ["objects", [{}, { a: 1, "é": { b: [null] }, "": "", "with space": { "😀": "x" } }]],
  ["placeholder-like object", [{ _placeholder: true, num: 0 }]],
  ["deep nesting", [nested(40)]],
  ["twenty arguments", Array.from({ length: 20 }, (_, i) => (i % 2 ? "a" + i : i))],
];

const BINARY_CASES = [
  ["buffer", [Buffer.from([0, 1, 2, 253, 254, 255])]],
  ["empty buffer", [Buffer.alloc(0)]],
  ["256 bytes", [Buffer.from(Array.from({ length: 256 }, (_, i) => i))]],
  [
    "binaries nested in objects and arrays",
    [{ a: Buffer.from("x"), list: [Buffer.from([1]), "text", { deep: [Buffer.from([2, 3]), null] }] }, Buffer.from([9])],
  ],
  ["text, binary, number", ["s", Buffer.from([7]), 1]],
  ["same buffer twice", [[Buffer.from([5, 5]), Buffer.from([5, 5])]]],
];

async function echoAll(s, cases) {
  const results = [];
  for (const [name, args] of cases) {
    s.socket.emit("echo", ...args);
    const got = await s.next("echo");
    results.push({ name, problem: compare(args, got.args), binaryTypes: [...binaryTypes(got.args)] });
  }
  return results;
}

async function ackAll(s, cases) {
  const results = [];
  for (const [name, args] of cases) {
    const response = await s.call("ack", ...args);
    results.push({ name, problem: compare(args, response), binaryTypes: [...binaryTypes(response)] });
  }
  return results;
}

// Echo of every JSON type and of binaries, client -> server acks, server
// -> client acks ("request-ack"), whoami, a clean client disconnect.
async function basic(o, facts) {
  const conn = new Conn(o.client, o);
  const s = conn.peer("/");
  s.listen("echo", "ack-result");
  s.answer("please-ack", (args) => ["got", ...args]);
  const c = await s.connected();
  facts.sid = c.sid;
  facts.transportAtOpen = conn.transport;
  facts.echoes = await echoAll(s, JSON_CASES.concat(BINARY_CASES));
  facts.acks = await ackAll(s, JSON_CASES.concat(BINARY_CASES));
  facts.serverAcks = [];
  for (const [name, args] of [
    ["values", [1, "two", { three: [3] }]],
    ["binaries", [{ b: Buffer.from([1, 2, 3]) }, [Buffer.from([4])]]],
    ["no arguments", []],
  ]) {
    s.socket.emit("request-ack", "please-ack", ...args);
    const asked = await s.next("please-ack");
    const result = await s.next("ack-result");
    facts.serverAcks.push({
      name,
      acked: asked.acked,
      askedProblem: compare(args, asked.args),
      problem: compare([{ response: ["got", ...args] }], result.args),
    });
  }
  facts.whoami = await s.whoami();
  facts.clientSid = s.socket.id;
  facts.transport = conn.transport;
  facts.offsets = s.offsets();
  s.socket.disconnect();
  await s.lifeEvent("disconnect");
  facts.life = s.life;
}

// Hold back the engine's upgrade probe until the returned function is
// called (the clients probe as soon as the polling session opens, and on
// loopback the upgrade is over before the namespace has even connected).
function holdUpgrade(conn) {
  const engine = conn.engine;
  const name = typeof engine._probe === "function" ? "_probe" : "probe"; // engine.io-client 6 : 3
  const original = engine[name];
  const held = [];
  engine[name] = (transport) => held.push(transport);
  return () => {
    engine[name] = original;
    for (const transport of held) original.call(engine, transport);
    return held;
  };
}

// 200+ echoes (every third one binary) in flight both ways while the
// polling session upgrades to WebSocket: the upgrade probe is held back
// until the namespace has connected and 20 echoes are sent; then as fast
// as possible until 200 are sent, then one every 10 ms until upgraded (a
// client that never stops writing may never finish pausing polling), then
// 50 more.
async function upgrade(o, facts) {
  const conn = new Conn(o.client, { ...o, transports: ["polling", "websocket"] });
  const release = holdUpgrade(conn);
  const s = conn.peer("/");
  s.listen("echo");
  let sent = 0;
  facts.upgradingAt = null;
  facts.upgradedAt = null;
  conn.engine.on("upgrading", () => (facts.upgradingAt = sent));
  conn.engine.on("upgrade", () => (facts.upgradedAt = sent));
  await s.connected();
  facts.transportAtOpen = conn.transport;
  const RELEASE = 20;
  const MIN = 200;
  const MAX = 3000;
  const expected = [];
  await new Promise((resolve) => {
    function tick() {
      if (sent >= MAX || (facts.upgradedAt !== null && sent >= Math.max(MIN, facts.upgradedAt + 50))) {
        resolve();
        return;
      }
      const args = sent % 3 === 2 ? [sent, { bin: Buffer.from("c" + sent) }] : [sent, "c" + sent];
      s.socket.emit("echo", ...args);
      expected.push(canonText(args));
      sent++;
      if (sent === RELEASE) {
        facts.probeReleasedAt = sent;
        facts.probed = release();
      }
      if (sent < MIN || facts.upgradedAt !== null) setImmediate(tick);
      else setTimeout(tick, 10);
    }
    tick();
  });
  facts.sent = sent;
  facts.echoes = [];
  for (let i = 0; i < sent; i++) facts.echoes.push(canonText((await s.next("echo")).args));
  facts.expectedEchoes = expected;
  facts.transport = conn.transport;
  facts.offsets = s.offsets();
  s.socket.disconnect();
}

// 1 MiB payloads, text and binary, both ways (server at
// --max-http-buffer-size 4000000).
async function big(o, facts) {
  const conn = new Conn(o.client, o);
  const s = conn.peer("/");
  s.listen("echo");
  await s.connected();
  const MiB = 1 << 20;
  const cases = [
    ["1 MiB text", [asciiText(MiB)]],
    ["300k code points of unicode", [unicodeText(300000)]],
    ["1 MiB binary nested in an object", [{ name: "big", data: binaryData(MiB) }]],
    ["two 512 KiB binaries", [binaryData(MiB / 2), [binaryData(MiB / 2)]]],
  ];
  facts.echoes = await echoAll(s, cases);
  facts.acks = await ackAll(s, cases.slice(0, 1).concat(cases.slice(2, 3)));
  facts.sizes = cases.map(([name, args]) => [name, canonText(args).length, sha256(canonText(args)).slice(0, 12)]);
  facts.transport = conn.transport;
  facts.life = s.life.slice();
  s.socket.disconnect();
}

// The server's ack timeout: the client never answers "ignored".
async function ackTimeout(o, facts) {
  const conn = new Conn(o.client, o);
  const s = conn.peer("/");
  s.listen("ack-result", "ignored");
  await s.connected();
  const start = Date.now();
  s.socket.emit("request-ack", "ignored", 1);
  const asked = await s.next("ignored");
  facts.asked = { acked: asked.acked, args: asked.args };
  facts.result = (await s.next("ack-result")).args;
  facts.elapsedMs = Date.now() - start;
  s.socket.disconnect();
}

// Namespaces on one engine.io connection: "/", "/other", a dynamic one and
// an unknown one; the client leaves "/other" alone.
async function namespaces(o, facts) {
  const conn = new Conn(o.client, o);
  const peers = { main: conn.peer("/"), other: conn.peer("/other"), dyn: conn.peer("/dyn-abc") };
  const bad = conn.peer("/nope");
  for (const p of Object.values(peers)) p.listen("echo");
  for (const p of Object.values(peers)) await p.connected();
  facts.refused = await bad.lifeEvent(o.client === "v4" ? "connect_error" : "error");
  facts.engineId = conn.engineId;
  facts.clientSids = {};
  facts.whoami = {};
  for (const [name, p] of Object.entries(peers)) {
    facts.clientSids[name] = p.socket.id;
    facts.whoami[name] = await p.whoami();
    p.socket.emit("echo", "to " + name);
  }
  for (const p of Object.values(peers)) await p.next("echo");
  peers.other.socket.disconnect();
  facts.otherDisconnect = (await peers.other.lifeEvent("disconnect")).reason;
  const sids = Object.values(facts.clientSids);
  facts.reasons = (await peers.main.call("reasons"))[0].filter((r) => sids.includes(r.sid));
  for (const name of ["main", "dyn"]) {
    peers[name].socket.emit("echo", "again " + name);
    await peers[name].next("echo");
  }
  facts.events = {};
  for (const [name, p] of Object.entries(peers)) facts.events[name] = p.summary();
  facts.engineIdAfter = conn.engineId;
  facts.opens = conn.opens;
  facts.badActive = bad.socket.active === undefined ? null : bad.socket.active;
  facts.life = Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, p.life]));
  facts.life.bad = bad.life;
  peers.main.socket.disconnect();
  peers.dyn.socket.disconnect();
}

// The /auth middleware: the right token is accepted (handshake.auth; a v2
// client sends it as the namespace's query), a wrong one or none refused.
async function auth(o, facts) {
  const good = new Conn(o.client, o).peer("/auth", { token: "secret" });
  good.listen("echo");
  await good.connected();
  facts.whoami = await good.whoami();
  good.socket.emit("echo", "authorized");
  facts.echo = (await good.next("echo")).args;
  facts.refused = {};
  facts.activeAfterRefusal = {};
  for (const [name, token] of [["wrong token", { token: "guess" }], ["no token", undefined]]) {
    const p = new Conn(o.client, o).peer("/auth", token);
    facts.refused[name] = await p.lifeEvent(o.client === "v4" ? "connect_error" : "error");
    facts.activeAfterRefusal[name] = p.socket.active === undefined ? null : p.socket.active;
    p.socket.disconnect();
  }
  good.socket.disconnect();
}

module.exports = { basic, upgrade, big, ackTimeout, namespaces, auth };
