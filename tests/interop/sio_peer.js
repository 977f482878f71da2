// The harness of the socket.io client scenarios (sio_client.js,
// sio_scenarios.js, sio_sessions.js): one Conn per engine.io connection
// (a socket.io-client Manager, v4 or 2.x), one Peer per namespace socket on
// it, recording every event it receives, and helpers to compare what was
// sent with what came back.  Every wait is bounded by --timeout.
"use strict";

const crypto = require("crypto");

const LIBRARIES = { v4: "socket.io-client", v2: "sio-client-v2" };

// A promise bounded to `seconds`, rejected with a message naming `what`.
function bounded(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds}s waiting for ${what}`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A JSON-able form of a value, binaries as {$binary: hex}: what is
// compared (whatever the binary's container type: Buffer, ArrayBuffer).
function canon(value) {
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return { $binary: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  if (Array.isArray(value)) return value.map(canon);
  const out = {};
  for (const key of Object.keys(value).sort()) out[key] = canon(value[key]);
  return out;
}

function canonText(value) {
  return JSON.stringify(canon(value));
}

// The container types of the binaries in a value ("Buffer", "ArrayBuffer").
function binaryTypes(value, found = new Set()) {
  if (value && typeof value === "object") {
    if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      found.add(value.constructor.name);
    } else {
      for (const v of Object.values(value)) binaryTypes(v, found);
    }
  }
  return found;
}

// null when `got` is `expected` (canonically), else what differs.
function compare(expected, got) {
  const a = canonText(expected);
  const b = canonText(got);
  if (a === b) return null;
  const short = (s) => (s.length <= 160 ? s : `${s.slice(0, 80)}...(${s.length} chars, sha256 ${sha256(s).slice(0, 12)})`);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `expected ${short(a)}, got ${short(b)}; first difference at ${i}`;
}

function sha256(text) {
  return crypto.createHash("sha256").update(text).digest("hex");
}

// Something whose state changes are watched: until() waits, bounded, for
// a condition over that state.
class Watched {
  constructor(o) {
    this.o = o;
    this.watchers = [];
  }

  _changed() {
    for (const w of this.watchers.slice()) w();
  }

  // Wait until check() returns something truthy, and return it.
  until(check, what) {
    const now = check();
    if (now) return Promise.resolve(now);
    let watcher;
    const remove = () => {
      const i = this.watchers.indexOf(watcher);
      if (i >= 0) this.watchers.splice(i, 1);
    };
    const p = new Promise((resolve) => {
      // (removed at once when satisfied: check() may consume what it found,
      // and more may arrive before the promise's reactions run)
      watcher = () => {
        const r = check();
        if (r) {
          remove();
          resolve(r);
        }
      };
      this.watchers.push(watcher);
    });
    return bounded(p, this.o.timeout, `${what} (${this.describe()})`).finally(remove);
  }
}

// One engine.io connection: a socket.io-client Manager of version "v4" or
// "v2", reconnecting after 100 ms.
class Conn extends Watched {
  constructor(version, o, managerOptions = {}) {
    super(o);
    if (!LIBRARIES[version]) throw new Error("unknown client version " + version);
    const lib = require(LIBRARIES[version]);
    this.version = version;
    this.opens = 0;
    this.closes = [];
    this.manager = new lib.Manager(o.url, {
      transports: o.transports,
      reconnectionDelay: 100,
      reconnectionDelayMax: 100,
      randomizationFactor: 0,
      timeout: o.timeout * 1000,
      ...managerOptions,
    });
    this.manager.on("open", () => {
      this.opens++;
      this._changed();
    });
    this.manager.on("close", (reason) => {
      this.closes.push(String(reason));
      this._changed();
    });
  }

  describe() {
    return `connection, ${this.version}`;
  }

  // A Peer on namespace `nsp`; `auth` goes as auth (v4) or as the
  // namespace's query (v2).
  peer(nsp, auth, name) {
    return new Peer(this, nsp, auth, name || nsp);
  }

  get engine() {
    return this.manager.engine;
  }

  get engineId() {
    return this.engine ? this.engine.id : null;
  }

  get transport() {
    return this.engine && this.engine.transport ? this.engine.transport.name : null;
  }
}

// One namespace socket, recording its events and its lifecycle.
class Peer extends Watched {
  constructor(conn, nsp, auth, name) {
    super(conn.o);
    this.conn = conn;
    this.version = conn.version;
    this.name = name;
    this.nsp = nsp;
    this.events = []; // {event, args, offset, acked}
    this.cursors = {};
    this.answers = {};
    this.life = []; // {what: "connect" | "disconnect" | "connect_error" | "error", ...}
    this.missingOffsets = [];
    const options = auth === undefined ? {} : conn.version === "v4" ? { auth } : { query: auth };
    this.socket = conn.manager.socket(nsp, options);
    this.socket.on("connect", () => this._life({ what: "connect", sid: this.socket.id, recovered: !!this.socket.recovered }));
    this.socket.on("disconnect", (reason) => this._life({ what: "disconnect", reason: String(reason) }));
    this.socket.on("connect_error", (err) => {
      this._life({ what: "connect_error", message: err && err.message, data: err && err.data !== undefined ? err.data : null });
    });
    this.socket.on("error", (data) => this._life({ what: "error", data: data === undefined ? null : data }));
  }

  describe() {
    return `${this.name}, ${this.version}`;
  }

  _life(entry) {
    this.life.push(entry);
    this._changed();
  }

  // Record every `event` received (an ack callback, if any, is answered by
  // the answers[event] function, or kept; the offset is taken off).
  listen(...events) {
    for (const event of events) {
      this.socket.on(event, (...args) => {
        let ack = null;
        let offset = null;
        if (typeof args[args.length - 1] === "function") ack = args.pop();
        else if (typeof args[args.length - 1] === "string") offset = args.pop();
        else this.missingOffsets.push(event);
        this.events.push({ event, args, offset, acked: ack !== null });
        if (ack && this.answers[event]) ack(...this.answers[event](args));
        this._changed();
      });
    }
  }

  // Answer `event`'s ack with fn(args) (an array of arguments).
  answer(event, fn) {
    this.answers[event] = fn;
    this.listen(event);
  }

  // The next not yet taken `event` (its record).
  next(event) {
    return this.until(() => {
      const start = this.cursors[event] || 0;
      for (let i = start; i < this.events.length; i++) {
        if (this.events[i].event === event) {
          this.cursors[event] = i + 1;
          return this.events[i];
        }
      }
      return null;
    }, `a "${event}" event`);
  }

  // The n-th lifecycle entry of kind `what` (counting from 1).
  lifeEvent(what, n = 1) {
    return this.until(() => this.life.filter((e) => e.what === what)[n - 1], `${what} #${n}`);
  }

  connected(n = 1) {
    return this.lifeEvent("connect", n);
  }

  // Emit with an ack callback; resolves with the ack's arguments.
  call(event, ...args) {
    return bounded(
      new Promise((resolve) => this.socket.emit(event, ...args, (...response) => resolve(response))),
      this.o.timeout,
      `the ack of "${event}" (${this.name}, ${this.version})`,
    );
  }

  async whoami() {
    return (await this.call("whoami"))[0];
  }

  // The events received, as comparable strings, ack requests marked.
  summary() {
    return this.events.map((e) => (e.acked ? "ack-requested " : "") + e.event + " " + canonText(e.args));
  }

  // Offsets seen: how many, how many distinct, which events lacked one.
  offsets() {
    const all = this.events.filter((e) => !e.acked).map((e) => e.offset);
    return { count: all.filter((x) => x !== null).length, distinct: new Set(all).size, missing: this.missingOffsets };
  }
}

module.exports = { Conn, Peer, bounded, canon, canonText, compare, binaryTypes, sha256 };
