/**
 * The two socket.io clients of `bench/socketio/loadgen.js`, behind one small
 * face.
 *
 *   raw  a minimal socket.io v5 / engine.io v4 client over a plain
 *        WebSocket at PATH?EIO=4&transport=websocket (built on
 *        bench/engineio/rawclient.js): it sends `40`, waits for `40{...}`,
 *        answers `2` with `3`, and counts `42[...]` / `43N[...]` frames
 *        by comparing their bytes with the frame it expects (JSON.parse
 *        only on a mismatch, to tell a differently spelled but equal packet
 *        from a wrong one).  Every frame it sends is built once; ack ids
 *        are the slot numbers 0..K-1, reused once a slot's ack is back.
 *   sio  the real `socket.io-client` v4 (websocket transport only, no
 *        permessage-deflate, no reconnection, a Manager per client).
 *
 * The face (`open(opts)` resolves with it):
 *   join(timeout)               "join-bench" with an ack; resolves on the ack
 *   expectMsg(payload)          the payload every "msg" event should carry
 *   onMsg = (ok) => ...         for each "msg" event received
 *   prepare(event, payloads, acks)
 *                               slot k will send event(payloads[k]) with an
 *                               ack whose arguments should be acks[k]
 *                               (undefined: no arguments)
 *   send(k)                     send slot k
 *   onAck = (k, ok) => ...      for each ack received
 *   onClose = (reason) => ...   once, if the connection ends
 *   close()
 *
 * Loopback only (checked by loadgen.js); every wait has a timeout.
 */
'use strict';

const raw = require('../engineio/rawclient.js');

const JOIN_ID = 999999;  // the ack id of "join-bench" (slots are 0..K-1)
const C_2 = 0x32, C_3 = 0x33, C_4 = 0x34, C_0 = 0x30, C_1 = 0x31, C_LB = 0x5b;

/** The frame carrying socket.io packet `packet` (engine.io message `4...`). */
function sioFrame(packet) { return raw.messageFrame(packet); }

function sameArgs(got, want) {
  if (want === undefined) return got.length === 0;
  return got.length === 1 && got[0] === want;
}

// ---------------------------------------------------------------- raw

class RawClient {
  constructor(session) {
    this.session = session;
    this.ws = session.ws;
    this.onMsg = null;
    this.onAck = null;
    this.onClose = null;
    this.frames = [];
    this.expectedAcks = [];
    this.expectedMsg = null;
    this.pendingJoin = null;
    this.connected = null;
    this.closed = false;
    // socket.io packets (`4x...`) are read here; engine.io pings, pongs
    // and the rest still go through rawclient's WsSession.
    const engineio = this.ws.onMessage;
    this.ws.onMessage = (isText, payload) => {
      if (isText && payload[0] === C_4) this.packet(payload);
      else engineio(isText, payload);
    };
    session.onClose = () => this.ended('transport close');
  }

  ended(reason) {
    if (this.closed) return;
    this.closed = true;
    if (this.connected) { const c = this.connected; this.connected = null; c.reject(new Error(reason)); }
    if (this.onClose) this.onClose(reason);
  }

  /** One socket.io packet, `payload` = the whole frame, `4` included. */
  packet(p) {
    const type = p[1];
    if (type === C_2) {
      if (!this.onMsg) return;
      const e = this.expectedMsg;
      this.onMsg(e !== null && (p.length === e.length && p.equals(e) || sameEvent(p, this.msgPayload)));
    } else if (type === C_3) {
      let id = 0, i = 2;
      while (i < p.length && p[i] >= C_0 && p[i] <= C_0 + 9) id = id * 10 + p[i++] - C_0;
      if (i === 2 || p[i] !== C_LB) return;
      if (id === JOIN_ID && this.pendingJoin) { const f = this.pendingJoin; this.pendingJoin = null; f(); return; }
      const e = this.expectedAcks[id];
      const ok = e !== undefined && (p.equals(e) || sameAck(p, i, this.ackArgs[id]));
      if (this.onAck) this.onAck(id, ok);
    } else if (type === C_0) {
      if (this.connected) { const c = this.connected; this.connected = null; c.resolve(); }
    } else if (type === C_4 || type === C_1) {
      this.ended(type === C_4 ? 'connect_error ' + p.toString().slice(2, 80) : 'io server disconnect');
    }
  }

  connect(timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no socket.io CONNECT within ' + timeout + 's')), timeout * 1000);
      this.connected = {
        resolve: () => { clearTimeout(timer); resolve(this); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.session.sendFrame(sioFrame('0'));
    });
  }

  join(timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no join-bench ack within ' + timeout + 's')), timeout * 1000);
      this.pendingJoin = () => { clearTimeout(timer); resolve(); };
      this.session.sendFrame(sioFrame(`2${JOIN_ID}["join-bench"]`));
    });
  }

  expectMsg(payload) {
    this.msgPayload = payload;
    this.expectedMsg = Buffer.from('4' + '2' + JSON.stringify(['msg', payload]));
  }

  prepare(event, payloads, acks) {
    this.ackArgs = acks;
    this.frames = payloads.map((p, k) => sioFrame(`2${k}` + JSON.stringify([event, p])));
    this.expectedAcks = acks.map((a, k) => Buffer.from(`43${k}` + JSON.stringify(a === undefined ? [] : [a])));
  }

  send(k) { this.session.sendFrame(this.frames[k]); }

  close() { this.closed = true; this.session.close(); }
}

/** Slow path: the event frame `p` says "msg"(payload), however spelled. */
function sameEvent(p, payload) {
  try {
    const v = JSON.parse(p.toString('utf8', 2));
    return Array.isArray(v) && v.length === 2 && v[0] === 'msg' && v[1] === payload;
  } catch (e) { return false; }
}

/** Slow path: the ack frame `p` (arguments from byte `i`) has arguments `want`. */
function sameAck(p, i, want) {
  try {
    const v = JSON.parse(p.toString('utf8', i));
    return Array.isArray(v) && sameArgs(v, want);
  } catch (e) { return false; }
}

async function openRaw(opts) {
  const session = await raw.openWsSession(opts.host, opts.port, opts.path, opts.timeout);
  const client = new RawClient(session);
  try {
    return await client.connect(opts.timeout);
  } catch (e) {
    client.close();
    throw e;
  }
}

// ---------------------------------------------------------------- sio

class SioClient {
  constructor(socket) {
    this.socket = socket;
    this.onMsg = null;
    this.onAck = null;
    this.onClose = null;
    this.closed = false;
    socket.on('disconnect', (reason) => {
      if (this.closed) return;
      this.closed = true;
      if (this.onClose) this.onClose(reason);
    });
  }

  join(timeout) {
    return this.socket.timeout(timeout * 1000).emitWithAck('join-bench');
  }

  expectMsg(payload) {
    this.socket.on('msg', (data) => { if (this.onMsg) this.onMsg(data === payload); });
  }

  prepare(event, payloads, acks) {
    this.event = event;
    this.payloads = payloads;
    this.callbacks = acks.map((want, k) => (...args) => {
      if (this.onAck) this.onAck(k, sameArgs(args, want));
    });
  }

  send(k) { this.socket.emit(this.event, this.payloads[k], this.callbacks[k]); }

  close() { this.closed = true; this.socket.disconnect(); }
}

function openSio(opts) {
  const { io } = require('socket.io-client');
  return new Promise((resolve, reject) => {
    const socket = io(`http://${opts.host}:${opts.port}`, {
      path: opts.path,
      transports: ['websocket'],
      upgrade: false,
      forceNew: true,
      reconnection: false,
      perMessageDeflate: false,
      timeout: opts.timeout * 1000,
    });
    const timer = setTimeout(() => fail(new Error('no connect within ' + opts.timeout + 's')), opts.timeout * 1000);
    function fail(e) {
      clearTimeout(timer);
      socket.off('connect');
      socket.disconnect();
      reject(e instanceof Error ? e : new Error(String(e)));
    }
    socket.once('connect_error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('connect_error', fail);
      resolve(new SioClient(socket));
    });
  });
}

/** Open one connected client of kind `opts.client` ("raw" or "sio"). */
function open(opts) {
  return opts.client === 'sio' ? openSio(opts) : openRaw(opts);
}

module.exports = { open };
