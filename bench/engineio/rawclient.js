/**
 * A minimal engine.io v4 client over raw `net` sockets, for
 * `loadgen.js --client raw`.
 *
 * `engine.io-client` costs the load generator about as much CPU per message
 * as a fast server does, so on a two-core machine its numbers can be bounded
 * by the client.  This client does the same protocol steps with far less
 * work per message (its own HTTP/1.1 keep-alive requests and RFC 6455
 * framing, client frames built once, echoes of one read answered with one
 * write), so that a run with it shows what the server itself can do.  It
 * speaks only what the benchmark needs: the polling handshake, long-polling
 * GETs and POSTs, the websocket transport (direct or as an upgrade with the
 * `2probe`/`3probe`/`5` exchange), pings answered with pongs, and text or
 * binary messages.
 *
 * Loopback only (checked by loadgen.js); every wait has a timeout.
 */
'use strict';

const net = require('net');
const crypto = require('crypto');

const RS = '\x1e';

// ---------------------------------------------------------------- HTTP/1.1

/**
 * One keep-alive HTTP/1.1 connection, one request at a time.  Responses
 * with Content-Length or chunked bodies; a `Connection: close` response
 * makes the next request reconnect.
 */
class HttpConn {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.sock = null;
    this.pending = null;
    this.buf = null;
  }

  connect() {
    const sock = net.connect({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    sock.on('data', (d) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => { if (this.sock === sock) this.sock = null; this.fail(new Error('connection closed')); });
    this.sock = sock;
    this.buf = null;
  }

  /** Resolves with {status, body (Buffer), close}. */
  request(method, path, body, timeout) {
    if (this.pending) return Promise.reject(new Error('request already in progress'));
    if (!this.sock) this.connect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.fail(new Error(`no HTTP response within ${timeout}s`)); }, timeout * 1000);
      this.pending = { resolve, reject, timer };
      let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nAccept: */*\r\n`;
      if (body !== null) {
        const b = typeof body === 'string' ? Buffer.from(body) : body;
        head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${b.length}\r\n\r\n`;
        this.sock.write(Buffer.concat([Buffer.from(head, 'latin1'), b]));
      } else {
        this.sock.write(head + '\r\n', 'latin1');
      }
    });
  }

  fail(err) {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    if (this.sock) { const s = this.sock; this.sock = null; s.destroy(); }
    p.reject(err);
  }

  onData(d) {
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (!this.pending) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    let length = -1, chunked = false, close = false;
    for (let i = 1; i < head.length; i++) {
      const line = head[i];
      const c = line.indexOf(':');
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.includes('chunked');
      else if (name === 'connection') close = value.includes('close');
    }
    let body;
    let rest;
    const start = end + 4;
    if (chunked) {
      const parts = [];
      let off = start;
      for (;;) {
        const eol = this.buf.indexOf('\r\n', off);
        if (eol < 0) return;
        const size = parseInt(this.buf.toString('latin1', off, eol), 16);
        if (this.buf.length < eol + 2 + size + 2) return;
        if (size === 0) { off = eol + 4; break; }
        parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
        off = eol + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      rest = off;
    } else if (length >= 0) {
      if (this.buf.length < start + length) return;
      body = this.buf.subarray(start, start + length);
      rest = start + length;
    } else {
      this.fail(new Error('response without a length'));
      return;
    }
    this.buf = rest < this.buf.length ? this.buf.subarray(rest) : null;
    const p = this.pending;
    this.pending = null;
    clearTimeout(p.timer);
    if (close && this.sock) { const s = this.sock; this.sock = null; s.end(); }
    p.resolve({ status, body, close });
  }

  destroy() {
    if (this.sock) { const s = this.sock; this.sock = null; s.destroy(); }
  }
}

// ---------------------------------------------------------------- WebSocket

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A masked client frame (FIN set). */
function clientFrame(opcode, payload) {
  const n = payload.length;
  const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hl + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) { out[1] = 0x80 | 126; out.writeUInt16BE(n, 2); }
  else { out[1] = 0x80 | 127; out.writeUInt32BE(Math.floor(n / 2 ** 32), 2); out.writeUInt32BE(n >>> 0, 6); }
  const key = crypto.randomBytes(4);
  key.copy(out, hl);
  for (let i = 0; i < n; i++) out[hl + 4 + i] = payload[i] ^ key[i & 3];
  return out;
}

function textFrame(s) { return clientFrame(0x1, Buffer.from(s)); }

/**
 * A client WebSocket: `onMessage(isText, payload)` for each data message,
 * `onClose()` once.  Pings are answered; the replies of one read, and
 * whatever `queue()` was given during it, go out in one write.
 */
class WsConn {
  constructor(sock, rest) {
    this.sock = sock;
    this.buf = null;
    this.parts = null;
    this.partOpcode = 0;
    this.out = [];
    this.inRead = false;
    this.closed = false;
    this.onMessage = null;
    this.onClose = null;
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      if (this.onClose) this.onClose();
    });
    if (rest && rest.length) setImmediate(() => this.onData(rest));
  }

  queue(frame) {
    this.out.push(frame);
    if (!this.inRead) this.flush();
  }

  flush() {
    if (!this.out.length || this.closed) { this.out = []; return; }
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    this.sock.write(data);
  }

  onData(d) {
    let buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = null;
    this.inRead = true;
    let off = 0;
    while (buf.length - off >= 2) {
      const b0 = buf[off], b1 = buf[off + 1];
      let n = b1 & 0x7f, hl = 2;
      if (n === 126) { if (buf.length - off < 4) break; n = buf.readUInt16BE(off + 2); hl = 4; }
      else if (n === 127) {
        if (buf.length - off < 10) break;
        n = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6); hl = 10;
      }
      if (buf.length - off < hl + n) break;
      const payload = buf.subarray(off + hl, off + hl + n);
      off += hl + n;
      this.frame(b0 & 0x80, b0 & 0x0f, payload);
    }
    if (off < buf.length) this.buf = Buffer.from(buf.subarray(off));
    this.inRead = false;
    this.flush();
  }

  frame(fin, opcode, payload) {
    if (opcode === 0x9) { this.out.push(clientFrame(0xa, payload)); return; }
    if (opcode === 0x8) {
      if (!this.closed) { this.out.push(clientFrame(0x8, payload.subarray(0, 2))); }
      return;
    }
    if (opcode === 0xa) return;
    if (opcode !== 0) { this.partOpcode = opcode; this.parts = fin ? null : [Buffer.from(payload)]; }
    else { this.parts.push(Buffer.from(payload)); if (fin) { payload = Buffer.concat(this.parts); this.parts = null; } }
    if (!fin) return;
    if (this.onMessage) this.onMessage(this.partOpcode === 0x1, payload);
  }

  close() {
    if (this.closed) return;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(1000, 0);
    this.sock.write(clientFrame(0x8, p));
    const s = this.sock;
    setTimeout(() => s.destroy(), 500);
  }
}

/** Open a WebSocket to `path`; resolves with a WsConn. */
function openWs(host, port, path, timeout) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => fail(new Error('websocket handshake timeout')), timeout * 1000);
    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    }
    function onData(d) {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101')) { fail(new Error('websocket: ' + head.split('\r\n')[0])); return; }
      if (!head.includes(accept)) { fail(new Error('bad Sec-WebSocket-Accept')); return; }
      if (/sec-websocket-extensions/i.test(head)) { fail(new Error('unexpected websocket extension')); return; }
      done = true;
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('error', fail);
      sock.removeListener('close', onEarlyClose);
      resolve(new WsConn(sock, buf.subarray(end + 4)));
    }
    function onEarlyClose() { fail(new Error('closed during websocket handshake')); }
    sock.on('data', onData);
    sock.on('error', fail);
    sock.on('close', onEarlyClose);
    sock.on('connect', () => sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
  });
}

// ---------------------------------------------------------------- engine.io

/** Split a v4 polling payload into packets (strings; "b..." is base64 binary). */
function decodePayload(body) {
  return body.toString('utf8').split(RS);
}

function encodeMessage(msg) {
  return typeof msg === 'string' ? '4' + msg : 'b' + Buffer.from(msg).toString('base64');
}

function polledMessage(packet) {
  if (packet[0] === '4') return packet.slice(1);
  if (packet[0] === 'b') return Buffer.from(packet.slice(1), 'base64');
  return undefined;
}

function wsMessage(isText, payload) {
  if (!isText) return payload;
  const s = payload.toString('utf8');
  return s[0] === '4' ? s.slice(1) : undefined;
}

/** The frame carrying message `msg` on the websocket transport. */
function messageFrame(msg) {
  return typeof msg === 'string' ? textFrame('4' + msg) : clientFrame(0x2, Buffer.from(msg));
}

function query(path, extra) {
  return `${path}?EIO=4&transport=${extra}`;
}

/** The polling handshake on `conn`; resolves with the sid. */
async function handshake(conn, path, timeout) {
  const r = await conn.request('GET', query(path, 'polling'), null, timeout);
  const text = r.body.toString('utf8');
  if (r.status !== 200 || text[0] !== '0') throw new Error(`handshake: HTTP ${r.status} ${text.slice(0, 60)}`);
  return JSON.parse(text.slice(1).split(RS)[0]).sid;
}

/**
 * A polling session: one connection for the long-polling GETs, one for
 * POSTs.  `onMessage(msg)` for each message; pings are answered.
 */
class PollingSession {
  constructor(host, port, path, timeout) {
    this.path = path;
    this.timeout = timeout;
    this.getConn = new HttpConn(host, port);
    this.postConn = new HttpConn(host, port);
    this.sid = null;
    this.onMessage = null;
    this.onError = null;
    this.closed = false;
    this.outbox = [];
    this.posting = false;
  }

  async open() {
    this.sid = await handshake(this.getConn, this.path, this.timeout);
    this.url = query(this.path, 'polling') + '&sid=' + encodeURIComponent(this.sid);
  }

  startPolling() {
    const loop = async () => {
      while (!this.closed) {
        const r = await this.getConn.request('GET', this.url, null, this.timeout);
        if (r.status !== 200) throw new Error(`poll: HTTP ${r.status}`);
        for (const packet of decodePayload(r.body)) {
          if (packet === '2') this.post('3');
          else if (packet === '1') { this.closed = true; throw new Error('closed by the server'); }
          else {
            const m = polledMessage(packet);
            if (m !== undefined && this.onMessage) this.onMessage(m);
          }
        }
      }
    };
    loop().catch((e) => { if (!this.closed && this.onError) this.onError(e); });
  }

  /** Queue one encoded packet; packets queued during a POST go in the next one. */
  post(packet) {
    this.outbox.push(packet);
    if (this.posting) return;
    this.posting = true;
    const drain = async () => {
      while (this.outbox.length && !this.closed) {
        const body = this.outbox.join(RS);
        this.outbox = [];
        const r = await this.postConn.request('POST', this.url, body, this.timeout);
        if (r.status !== 200) throw new Error(`post: HTTP ${r.status}`);
      }
      this.posting = false;
    };
    drain().catch((e) => { this.posting = false; if (!this.closed && this.onError) this.onError(e); });
  }

  send(msg) { this.post(encodeMessage(msg)); }

  close() {
    if (this.closed) return;
    this.closed = true;
    const conn = this.postConn;
    conn.request('POST', this.url, '1', 2).catch(() => {}).finally(() => conn.destroy());
    this.getConn.destroy();
  }
}

/**
 * A websocket-only session (no polling first): resolves once the open
 * packet arrived.  `session.onMessage(msg)`, `session.send(msg)`,
 * `session.sendFrame(prebuiltFrame)`.
 */
function openWsSession(host, port, path, timeout) {
  return openWs(host, port, query(path, 'websocket'), timeout).then((ws) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.close(); reject(new Error('no open packet')); }, timeout * 1000);
    const session = new WsSession(ws);
    session.onOpen = () => { clearTimeout(timer); resolve(session); };
    ws.onClose = () => { clearTimeout(timer); reject(new Error('closed before open')); };
  }));
}

class WsSession {
  constructor(ws) {
    this.ws = ws;
    this.onOpen = null;
    this.onMessage = null;
    this.onClose = null;
    this.probed = null;
    ws.onMessage = (isText, payload) => this.received(isText, payload);
    ws.onClose = () => { if (this.onClose) this.onClose(); };
  }

  received(isText, payload) {
    if (isText) {
      const c = payload[0];
      if (c === 0x32) { this.ws.queue(textFrame('3')); return; } // '2' ping
      if (c === 0x30) { if (this.onOpen) { const f = this.onOpen; this.onOpen = null; f(); } return; }
      if (c === 0x33) { if (this.probed) { const f = this.probed; this.probed = null; f(payload.toString()); } return; }
      if (c !== 0x34) return;
    }
    if (this.onMessage) this.onMessage(wsMessage(isText, payload));
  }

  sendFrame(frame) { this.ws.queue(frame); }
  send(msg) { this.ws.queue(messageFrame(msg)); }
  close() { this.ws.close(); }
}

/**
 * The client side of an upgrade, as engine.io-client does it: polling
 * handshake, a pending GET, a websocket with the sid, `2probe` ->
 * `3probe`, wait for the pending GET to return (the server ends it with a
 * noop), then `5`.  Resolves with the WsSession; `pool` lends and takes
 * back keep-alive HTTP connections.
 */
async function upgradeSession(host, port, path, timeout, pool) {
  const conn = pool.length ? pool.pop() : new HttpConn(host, port);
  let ws = null;
  try {
    const sid = await handshake(conn, path, timeout);
    const pollUrl = query(path, 'polling') + '&sid=' + encodeURIComponent(sid);
    const poll = conn.request('GET', pollUrl, null, timeout);
    ws = await openWs(host, port, query(path, 'websocket') + '&sid=' + encodeURIComponent(sid), timeout);
    const session = new WsSession(ws);
    const pong = new Promise((resolve, reject) => {
      session.probed = resolve;
      ws.onClose = () => reject(new Error('probe websocket closed'));
      setTimeout(() => reject(new Error('no 3probe')), timeout * 1000);
    });
    ws.queue(textFrame('2probe'));
    const answer = await pong;
    if (answer !== '3probe') throw new Error('bad probe answer ' + answer);
    const r = await poll;
    if (r.status !== 200) throw new Error(`poll during upgrade: HTTP ${r.status}`);
    ws.onClose = () => { if (session.onClose) session.onClose(); };
    ws.queue(textFrame('5'));
    pool.push(conn);
    return session;
  } catch (e) {
    conn.destroy();
    if (ws) ws.close();
    throw e;
  }
}

module.exports = {
  HttpConn, PollingSession, WsSession, openWsSession, upgradeSession, messageFrame,
};
