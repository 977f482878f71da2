/*
 * rtsio.js: a small socket.io client for the browser, rtproto's own, for
 * its demo page.  Written from the published protocol descriptions
 * (engine.io protocol v4, socket.io protocol v5); it is not the official
 * socket.io-client, which the page prefers when the server serves it.
 *
 * What it does:
 *   - engine.io v4 (EIO=4): the handshake over HTTP long-polling (GET for
 *     receiving, POST for sending, packets joined with the record separator
 *     \x1e), heartbeats (the server's "2" ping answered with "3"; no ping
 *     for pingInterval + pingTimeout closes the transport), then the upgrade
 *     to WebSocket: "2probe" / "3probe", polling paused once its requests
 *     are back, "5", and whatever was queued meanwhile sent on the WebSocket
 *     (nothing is lost or reordered).
 *   - reconnection with exponential backoff and jitter after the transport
 *     closes (not after disconnect() or a server-side DISCONNECT).
 *   - socket.io v5: CONNECT to a namespace (with an auth object),
 *     CONNECT_ERROR, EVENT, ACK (emit with a callback, and callbacks given to
 *     the server's events that ask for an ack), DISCONNECT.
 *
 * What it leaves out: binary attachments (BINARY_EVENT / BINARY_ACK: such
 * packets are reported to the console and dropped; events carry JSON only),
 * several namespaces over one connection (each connect() has its own
 * engine.io session), the msgpack parser, engine.io v3, starting on
 * WebSocket without polling, volatile and timeout emits.
 *
 * Usage, as with the official client:
 *   const socket = rtsio.connect("/chat", {path: "/socket.io/", auth: {}});
 *   socket.on("connect", () => ...);
 *   socket.emit("message", text, (ok) => ...);
 *   socket.on("message", (msg) => ...);
 *   socket.io.engine.transport.name;          // "polling", then "websocket"
 *   socket.io.engine.on("upgrade", (transport) => ...);
 */
(function (global) {
  "use strict";

  var SEPARATOR = "\x1e";                      // joins packets in a polling payload
  var CONNECT = 0, DISCONNECT = 1, EVENT = 2, ACK = 3, CONNECT_ERROR = 4;

  /* A minimal event emitter; _fire() dispatches locally (a Socket's emit()
   * sends to the server instead). */
  class Emitter {
    constructor() { this._handlers = {}; }
    on(name, fn) { (this._handlers[name] = this._handlers[name] || []).push(fn); return this; }
    off(name, fn) {
      var list = this._handlers[name] || [];
      this._handlers[name] = fn ? list.filter(function (f) { return f !== fn; }) : [];
      return this;
    }
    once(name, fn) {
      var self = this;
      function wrapper() { self.off(name, wrapper); fn.apply(self, arguments); }
      return this.on(name, wrapper);
    }
    _fire(name) {
      var args = Array.prototype.slice.call(arguments, 1);
      (this._handlers[name] || []).slice().forEach(function (fn) {
        try { fn.apply(this, args); } catch (e) { setTimeout(function () { throw e; }); }
      }, this);
    }
  }

  /* One engine.io v4 session: polling first, then upgraded to WebSocket.
   * Events: "open", "message" (string or ArrayBuffer), "upgrade"
   * (transport), "close" (reason). */
  class Engine extends Emitter {
    constructor(url, opts) {
      super();
      this.url = url;                          // e.g. http://host/socket.io/
      this.opts = opts;
      this.sid = null;
      this.readyState = "opening";
      this.transport = {name: "polling"};
      this._queue = [];                        // encoded packets not sent yet
      this._getting = false;                   // a polling GET is in flight
      this._posting = false;                   // a polling POST is in flight
      this._pausing = false;                   // upgrade: waiting for both to return
      this._ws = null;
      this._heartbeat = null;
      this._abort = new AbortController();     // cancels the requests on close
      this._poll();
    }

    _query(transport) {
      var q = "EIO=4&transport=" + transport + "&t=" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
      return this.sid ? q + "&sid=" + encodeURIComponent(this.sid) : q;
    }

    _request(method, body) {
      var init = {method: method, cache: "no-store", credentials: "same-origin", signal: this._abort.signal};
      if (body !== undefined) {
        init.body = body;
        init.headers = {"Content-Type": "text/plain;charset=UTF-8"};
      }
      return fetch(this.url + "?" + this._query("polling"), init).then(function (response) {
        if (!response.ok) throw new Error("polling " + method + ": HTTP " + response.status);
        return response.text();
      });
    }

    /* The long-polling GET, re-issued as soon as the previous one returns. */
    _poll() {
      if (this.readyState === "closed" || this._getting || this._pausing || this.transport.name !== "polling") return;
      this._getting = true;
      this._request("GET").then((payload) => {
        this._getting = false;
        payload.split(SEPARATOR).forEach(this._packet, this);
        this._requestDone();
      }, (err) => this._close("transport error", err));
    }

    /* Send the queue: over the WebSocket, or in one POST at a time. */
    _flush() {
      if (this.readyState !== "open" || !this._queue.length) return;
      if (this.transport.name === "websocket") {
        this._queue.splice(0).forEach(function (p) { this._ws.send(p); }, this);
      } else if (!this._posting && !this._pausing) {
        this._posting = true;
        this._request("POST", this._queue.splice(0).join(SEPARATOR)).then(() => {
          this._posting = false;
          this._requestDone();
        }, (err) => this._close("transport error", err));
      }
    }

    /* A polling request returned: finish a pending upgrade, or carry on. */
    _requestDone() {
      if (this.readyState !== "open") return;
      if (this._pausing) {
        if (!this._getting && !this._posting) this._upgraded();
      } else {
        this._poll();
        this._flush();
      }
    }

    send(packet) { this._queue.push(packet); this._flush(); }

    _packet(p) {
      if (this.readyState === "closed" || p === "") return;
      var type = p.charAt(0), data = p.slice(1);
      if (type === "0") this._opened(JSON.parse(data));
      else if (type === "1") this._close("transport close");
      else if (type === "2") { this.send("3" + data); this._expectPing(); }
      else if (type === "4") this._fire("message", data);
      else if (type === "b") this._fire("message", Uint8Array.from(atob(data), function (c) { return c.charCodeAt(0); }).buffer);
      // "3" (pong) only answers the probe, on the WebSocket; "6" is a noop.
    }

    _opened(handshake) {
      this.sid = handshake.sid;
      this.pingInterval = handshake.pingInterval;
      this.pingTimeout = handshake.pingTimeout;
      this.readyState = "open";
      this._expectPing();
      this._fire("open");
      this._flush();
      if (this.opts.upgrade !== false && (handshake.upgrades || []).indexOf("websocket") >= 0 && global.WebSocket) {
        this._probe();
      }
    }

    /* The server pings every pingInterval; silence for longer than that
     * plus pingTimeout means the connection is gone. */
    _expectPing() {
      clearTimeout(this._heartbeat);
      this._heartbeat = setTimeout(() => this._close("ping timeout"), this.pingInterval + this.pingTimeout);
    }

    /* Try a WebSocket beside the polling transport. */
    _probe() {
      var url = new URL(this.url);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      url.search = "?" + this._query("websocket");
      var ws = this._ws = new WebSocket(url.href);
      ws.binaryType = "arraybuffer";
      ws.onopen = function () { ws.send("2probe"); };
      ws.onmessage = (e) => {
        if (this.transport.name === "websocket") {
          if (typeof e.data === "string") this._packet(e.data); else this._fire("message", e.data);
        } else if (e.data === "3probe") {
          // Pause polling: the server answers our pending GET with a noop;
          // once it and any POST are back, nothing is in flight.
          this._pausing = true;
          this._requestDone();
        }
      };
      ws.onclose = () => {
        if (this.transport.name === "websocket") return this._close("transport close");
        this._ws = null;                       // the probe failed: stay on polling
        if (this._pausing) { this._pausing = false; this._requestDone(); }
      };
    }

    _upgraded() {
      this._ws.send("5");
      this.transport = {name: "websocket"};
      this._pausing = false;
      this._fire("upgrade", this.transport);
      this._flush();                           // what was queued while paused
    }

    /* Close the session ourselves (a close packet, then the transports). */
    close() {
      if (this.readyState === "open") {
        if (this.transport.name === "websocket") this._ws.send("1");
        else fetch(this.url + "?" + this._query("polling"), {method: "POST", body: "1", keepalive: true}).catch(function () {});
      }
      this._close("forced close");
    }

    _close(reason, err) {
      if (this.readyState === "closed") return;
      this.readyState = "closed";
      clearTimeout(this._heartbeat);
      this._abort.abort();
      if (this._ws) { this._ws.onclose = this._ws.onmessage = null; this._ws.close(); }
      this._fire("close", reason, err);
    }
  }

  /* socket.io packets as text: type, "/nsp," unless "/", ack id, JSON. */
  function encode(p) {
    var s = String(p.type);
    if (p.nsp !== "/") s += p.nsp + ",";
    if (p.id !== undefined) s += p.id;
    if (p.data !== undefined) s += JSON.stringify(p.data);
    return s;
  }

  function decode(s) {
    var p = {type: Number(s.charAt(0)), nsp: "/"}, i = 1;
    if (s.charAt(i) === "/") {
      var comma = s.indexOf(",", i);
      p.nsp = comma < 0 ? s.slice(i) : s.slice(i, comma);
      i = comma < 0 ? s.length : comma + 1;
    }
    var digits = /^\d*/.exec(s.slice(i))[0];
    if (digits) { p.id = Number(digits); i += digits.length; }
    if (i < s.length) p.data = JSON.parse(s.slice(i));
    return p;
  }

  /* The connection of one socket: its engine, and reconnection with backoff.
   * Events: "open", "close", "reconnect_attempt" (n), "reconnect" (n). */
  class Manager extends Emitter {
    constructor(url, opts) {
      super();
      this.url = url;
      this.opts = opts;
      this.engine = null;
      this.socket = null;
      this._attempts = 0;
      this._timer = null;
      this._closed = false;
    }

    open() {
      var engine = this.engine = new Engine(this.url, this.opts);
      engine.on("open", () => {
        if (this._attempts) this._fire("reconnect", this._attempts);
        this._attempts = 0;
        this._fire("open");
        if (this.socket) this.socket._onOpen();
      });
      engine.on("message", (data) => {
        if (typeof data !== "string") return console.warn("rtsio: binary data is not supported");
        var packet;
        try { packet = decode(data); } catch (e) { return console.warn("rtsio: bad packet", data); }
        if (this.socket && packet.nsp === this.socket.nsp) this.socket._onPacket(packet);
      });
      engine.on("close", (reason) => {
        this._fire("close", reason);
        if (this.socket) this.socket._onClose(reason);
        if (!this._closed && this.opts.reconnection !== false) this._reconnect();
      });
    }

    _reconnect() {
      var base = this.opts.reconnectionDelay || 1000, max = this.opts.reconnectionDelayMax || 5000;
      var delay = Math.min(max, base * Math.pow(2, this._attempts)) * (0.5 + Math.random());
      this._attempts += 1;
      this._fire("reconnect_attempt", this._attempts);
      this._timer = setTimeout(() => this.open(), delay);
    }

    /* A socket.io packet travels as an engine.io message packet ("4"). */
    packet(p) { if (this.engine && this.engine.readyState === "open") this.engine.send("4" + encode(p)); }

    close() {
      this._closed = true;
      clearTimeout(this._timer);
      if (this.engine) this.engine.close();
    }
  }

  /* A namespace socket.  on()/once()/off() for server events and "connect",
   * "connect_error" (err), "disconnect" (reason); emit() sends an event,
   * with an acknowledgement callback as its last argument if wanted. */
  class Socket extends Emitter {
    constructor(io, nsp, opts) {
      super();
      this.io = io;
      this.nsp = nsp;
      this.auth = opts.auth;
      this.id = undefined;
      this.connected = false;
      this._acks = new Map();
      this._nextAck = 0;
      this._buffer = [];                       // emits made before CONNECT was answered
    }

    get disconnected() { return !this.connected; }

    emit(event) {
      var args = Array.prototype.slice.call(arguments);
      var packet = {type: EVENT, nsp: this.nsp};
      if (typeof args[args.length - 1] === "function") {
        packet.id = this._nextAck++;
        this._acks.set(packet.id, args.pop());
      }
      packet.data = args;
      if (this.connected) this.io.packet(packet); else this._buffer.push(packet);
      return this;
    }

    _onOpen() {
      var send = (auth) => this.io.packet({type: CONNECT, nsp: this.nsp, data: auth || undefined});
      if (typeof this.auth === "function") this.auth(send); else send(this.auth);
    }

    _onPacket(p) {
      if (p.type === CONNECT && p.data && p.data.sid) {
        this.id = p.data.sid;
        this.connected = true;
        this._buffer.splice(0).forEach(this.io.packet, this.io);
        this._fire("connect");
      } else if (p.type === CONNECT_ERROR) {
        var err = new Error((p.data && p.data.message) || "connect error");
        err.data = p.data && p.data.data;
        this._fire("connect_error", err);
      } else if (p.type === EVENT && Array.isArray(p.data)) {
        var args = p.data.slice();
        if (p.id !== undefined) args.push(this._ackFor(p.id));
        this._fire.apply(this, args);
      } else if (p.type === ACK && this._acks.has(p.id)) {
        var fn = this._acks.get(p.id);
        this._acks.delete(p.id);
        fn.apply(this, p.data || []);
      } else if (p.type === DISCONNECT) {
        this.io.close();                       // the server sent us away: no reconnection
        this._onClose("io server disconnect");
      } else {
        console.warn("rtsio: packet not supported", p.type);
      }
    }

    /* The callback handed to an event handler when the server wants an ack. */
    _ackFor(id) {
      var sent = false;
      return (...args) => {
        if (!sent) { sent = true; this.io.packet({type: ACK, nsp: this.nsp, id: id, data: args}); }
      };
    }

    _onClose(reason) {
      if (!this.connected) return;
      this.connected = false;
      this.id = undefined;
      this._fire("disconnect", reason);
    }

    disconnect() {
      if (this.connected) this.io.packet({type: DISCONNECT, nsp: this.nsp});
      this._onClose("io client disconnect");
      this.io.close();
      return this;
    }
  }

  /* connect(uri, opts): uri is a namespace ("/chat") or a URL whose path is
   * the namespace; opts.path is where socket.io is mounted. */
  function connect(uri, opts) {
    opts = opts || {};
    var target = new URL(uri || "/", global.location.href);
    var path = opts.path || "/socket.io/";
    var io = new Manager(target.origin + (path.charAt(0) === "/" ? path : "/" + path), opts);
    var socket = io.socket = new Socket(io, target.pathname || "/", opts);
    io.open();
    return socket;
  }

  global.rtsio = {connect: connect, Engine: Engine, Manager: Manager, Socket: Socket, protocol: 5};
})(window);
