// The scenarios of sio_client.js about several clients and the life of a
// session: rooms (three clients, v4 and v2 mixed, in one room),
// server-disconnect ("disconnect-me", one namespace, then all),
// reconnect (the server drops the transport, the client reconnects) and
// recovery (connection state recovery, v4 only).  Room names carry a
// random tag: the server is shared by the tests of a module, and sockets
// of earlier runs may linger in it until their ping timeout.
"use strict";

const crypto = require("crypto");
const { Conn } = require("./sio_peer.js");

function tag() {
  return crypto.randomBytes(4).toString("hex");
}

// The server's disconnections of the given sids.
async function reasonsOf(peer, sids) {
  return (await peer.call("reasons"))[0].filter((r) => sids.includes(r.sid));
}

// Three clients in one room: a and b of the scenario's version, c of the
// other one.  Every step waits for every client that should receive
// something; the absence of an event is seen from a later marker sent on
// the same path (the server sends to each client in order).
async function rooms(o, facts) {
  const versions = o.client === "v4" ? ["v4", "v4", "v2"] : ["v2", "v2", "v4"];
  const names = ["a", "b", "c"];
  const [a, b, c] = names.map((name, i) => new Conn(versions[i], o).peer("/", undefined, name));
  const all = [a, b, c];
  for (const p of all) {
    p.listen("hello", "all", "news", "marker", "after-leave");
    p.answer("vote", (args) => [p.name]);
  }
  for (const p of all) await p.connected();
  const room = "room-" + tag();
  const ex = "ex-" + tag();
  Object.assign(facts, { versions, room, ex, sids: all.map((p) => p.socket.id) });
  facts.joins = [];
  for (const p of all) facts.joins.push((await p.call("join", room))[0]);
  facts.joins.push((await c.call("join", ex))[0]);
  facts.rooms = [];
  for (const p of all) facts.rooms.push((await p.call("rooms"))[0]);

  a.socket.emit("to-room", room, "hello", "from a", { bin: Buffer.from([1, 2]) });
  a.socket.emit("to-room-all", room, "marker", 1);
  for (const p of all) await p.next("marker");

  b.socket.emit("to-room-all", room, "all", "from b");
  for (const p of all) await p.next("all");

  a.socket.emit("broadcast-except", room, ex, "news", "n1");
  a.socket.emit("to-room-all", room, "marker", 2);
  for (const p of all) await p.next("marker");

  facts.vote = (await a.call("broadcast-ack", room, "vote", "q?"))[0];

  facts.leave = (await c.call("leave", room))[0];
  facts.roomsAfterLeave = (await c.call("rooms"))[0];
  a.socket.emit("to-room-all", room, "after-leave", "x");
  a.socket.emit("to-room-all", ex, "marker", 3);
  a.socket.emit("to-room-all", room, "marker", 4);
  await a.next("marker");
  await b.next("marker");
  await c.next("marker");

  facts.events = all.map((p) => p.summary());
  facts.offsets = all.map((p) => p.offsets());
  facts.life = all.map((p) => p.life);
  for (const p of all) p.socket.disconnect();
}

// "disconnect-me": first /other alone, then, from "/", everything
// (closeAll); the client does not reconnect.
async function serverDisconnect(o, facts) {
  const conn = new Conn(o.client, o);
  const peers = { main: conn.peer("/"), other: conn.peer("/other"), dyn: conn.peer("/dyn-x") };
  for (const p of Object.values(peers)) p.listen("echo");
  for (const p of Object.values(peers)) await p.connected();
  facts.sids = Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, p.socket.id]));
  peers.other.socket.emit("disconnect-me", false);
  facts.otherReason = (await peers.other.lifeEvent("disconnect")).reason;
  peers.main.socket.emit("echo", "still here");
  facts.echoAfterOther = (await peers.main.next("echo")).args;
  peers.main.socket.emit("disconnect-me", true);
  facts.mainReason = (await peers.main.lifeEvent("disconnect")).reason;
  facts.dynReason = (await peers.dyn.lifeEvent("disconnect")).reason;
  await conn.until(() => conn.closes.length > 0, "the connection to close");
  // (the manager decides whether to reconnect right after its "close"
  // event, in the same turn: look once that turn is over)
  await new Promise((resolve) => setImmediate(resolve));
  facts.managerClose = conn.closes;
  facts.reconnecting = o.client === "v4" ? conn.manager._reconnecting : conn.manager.reconnecting;
  facts.skipReconnect = conn.manager.skipReconnect;
  facts.active = o.client === "v4" ? Object.values(peers).map((p) => p.socket.active) : null;
  facts.opens = conn.opens;
  const t = new Conn(o.client, o).peer("/");
  await t.connected();
  facts.reasons = await reasonsOf(t, Object.values(facts.sids));
  facts.life = Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, p.life]));
  t.socket.disconnect();
}

// "drop-transport": both namespaces of the connection see "transport
// close" and reconnect on their own (100 ms delay) with new sids (nothing
// was received that carries an offset, so a v4 client is not recovered).
async function reconnect(o, facts) {
  const conn = new Conn(o.client, o);
  const peers = { main: conn.peer("/"), other: conn.peer("/other") };
  for (const p of Object.values(peers)) p.listen("echo");
  for (const p of Object.values(peers)) await p.connected();
  facts.engineIds = [conn.engineId];
  facts.first = {};
  for (const [name, p] of Object.entries(peers)) facts.first[name] = await p.whoami();
  peers.main.socket.emit("drop-transport");
  facts.reasons = {};
  for (const [name, p] of Object.entries(peers)) facts.reasons[name] = (await p.lifeEvent("disconnect")).reason;
  facts.second = {};
  facts.echoes = {};
  for (const [name, p] of Object.entries(peers)) {
    await p.connected(2);
    facts.second[name] = await p.whoami();
    p.socket.emit("echo", "again " + name);
    facts.echoes[name] = (await p.next("echo")).args;
  }
  facts.engineIds.push(conn.engineId);
  facts.opens = conn.opens;
  facts.clientRecovered = o.client === "v4" ? peers.main.socket.recovered : null;
  facts.serverReasons = await reasonsOf(peers.main, Object.values(facts.first).map((w) => w.sid));
  facts.life = Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, p.life]));
  for (const p of Object.values(peers)) p.socket.disconnect();
}

// Connection state recovery (v4): A joins a room and receives one
// broadcast (so it has an offset); the server drops A's transport; B
// sends 3 messages to the room; A reconnects (by hand: its reconnection is
// off, so that the 3 are certainly sent while it is away) and is
// recovered: same sid, still in the room, the 3 messages in order.
async function recovery(o, facts) {
  if (o.client !== "v4") throw new Error("connection state recovery needs the v4 client");
  const room = "r-" + tag();
  const a = new Conn("v4", o, { reconnection: false }).peer("/", undefined, "A");
  const b = new Conn("v4", o).peer("/", undefined, "B");
  a.listen("msg");
  await a.connected();
  await b.connected();
  facts.room = room;
  facts.join = (await a.call("join", room))[0];
  b.socket.emit("to-room", room, "msg", 0, "before");
  await a.next("msg");
  facts.before = await a.whoami();
  facts.hadOffset = typeof a.socket._lastOffset === "string";
  a.socket.emit("drop-transport");
  facts.dropReason = (await a.lifeEvent("disconnect")).reason;
  b.socket.emit("to-room", room, "msg", 1, "missed");
  b.socket.emit("to-room", room, "msg", 2, { bin: Buffer.from([2]) });
  b.socket.emit("to-room", room, "msg", 3, "missed");
  // (acks come back in order: once this one is back, the server has
  // handled the three broadcasts)
  await b.call("rooms");
  a.socket.connect();
  const again = await a.connected(2);
  facts.reconnected = { sid: again.sid, recovered: again.recovered };
  for (let i = 1; i <= 3; i++) await a.next("msg");
  facts.after = await a.whoami();
  facts.roomsAfter = (await a.call("rooms"))[0];
  b.socket.emit("to-room", room, "msg", 4, "live");
  await a.next("msg");
  facts.events = a.summary();
  facts.offsets = a.offsets();
  facts.serverReasons = await reasonsOf(b, [facts.before.sid]);
  facts.life = a.life;
  a.socket.disconnect();
  b.socket.disconnect();
}

module.exports = { rooms, serverDisconnect, reconnect, recovery };
