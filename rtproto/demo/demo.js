/*
 * demo.js: what rtproto's demo page does.  Four sections, each with its own
 * connection and status line:
 *   - WebSocket echo (/ws): text and binary messages sent back as they came;
 *   - chat over socket.io (namespace /chat): nickname, messages, joined/left
 *     notices, typing, and the transport in use (polling, then websocket);
 *   - Server-Sent Events (/events, channel chat): the chat's messages with
 *     their ids, and the Last-Event-ID the browser resumes from after a drop;
 *   - WebSocket feed (/feed): the chat's messages as JSON frames.
 * Every URL is relative to the page, so it works behind a path prefix, and
 * WebSockets use wss:// when the page came over https.  The socket.io client
 * is the official one when the server serves it (socket.io/socket.io.min.js,
 * see --sio-client-dist), else rtsio.js, rtproto's own; ?client=rtsio forces
 * the latter.
 */
(function () {
  "use strict";

  var MAX_ITEMS = 500;                         // lines kept per log

  function $(id) { return document.getElementById(id); }

  /* An absolute ws:// or wss:// URL for a path relative to the page. */
  function wsUrl(relative) {
    var url = new URL(relative, document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  function setStatus(element, state, text) {
    element.dataset.state = state;
    element.textContent = text;
  }

  /* Append a line to a log; `data` becomes data-* attributes (for tests). */
  function addItem(list, text, data, className) {
    var item = document.createElement("li");
    item.textContent = text;
    if (className) item.className = className;
    Object.keys(data || {}).forEach(function (key) { item.dataset[key] = String(data[key]); });
    list.appendChild(item);
    while (list.children.length > MAX_ITEMS) list.removeChild(list.firstChild);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function hex(bytes) {
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join(" ");
  }

  function clock(at) {
    return at ? new Date(at).toLocaleTimeString() + " " : "";
  }

  /* A WebSocket that comes back after a close, with a growing delay. */
  function reconnecting(path, status, onMessage) {
    var holder = {ws: null}, failures = 0;
    function open() {
      setStatus(status, "connecting", "connecting…");
      var ws = holder.ws = new WebSocket(wsUrl(path));
      ws.binaryType = "arraybuffer";
      ws.onopen = function () { failures = 0; setStatus(status, "open", "connected to " + ws.url); };
      ws.onmessage = onMessage;
      ws.onclose = function (e) {
        var delay = Math.min(10, Math.pow(2, failures++));
        setStatus(status, "closed", "closed (" + e.code + (e.reason ? " " + e.reason : "") + "), again in " + delay + " s");
        setTimeout(open, delay * 1000);
      };
    }
    open();
    return holder;
  }

  /* -- WebSocket echo ------------------------------------------------------ */

  function startEcho() {
    var log = $("ws-log"), input = $("ws-input"), status = $("ws-status");
    var conn = reconnecting("ws", status, function (e) {
      if (typeof e.data === "string") {
        addItem(log, "← text: " + e.data, {dir: "in", kind: "text", value: e.data}, "in");
      } else {
        var bytes = new Uint8Array(e.data);
        addItem(log, "← binary, " + bytes.length + " bytes: " + hex(bytes),
                {dir: "in", kind: "binary", value: hex(bytes), length: bytes.length}, "in");
      }
    });
    function send(data, line, attrs) {
      if (!conn.ws || conn.ws.readyState !== WebSocket.OPEN) return setStatus(status, "closed", "not connected");
      conn.ws.send(data);
      addItem(log, line, attrs, "out");
    }
    $("ws-form").addEventListener("submit", function (e) {
      e.preventDefault();
      send(input.value, "→ text: " + input.value, {dir: "out", kind: "text", value: input.value});
    });
    $("ws-send-binary").addEventListener("click", function () {
      var bytes = new TextEncoder().encode(input.value);
      send(bytes, "→ binary, " + bytes.length + " bytes: " + hex(bytes),
           {dir: "out", kind: "binary", value: hex(bytes), length: bytes.length});
    });
  }

  /* -- Chat over socket.io ------------------------------------------------- */

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { script.remove(); reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  /* The official client if the server serves it, else rtsio.js. */
  function chooseClient() {
    var forced = new URLSearchParams(location.search).get("client") === "rtsio";
    var official = forced ? Promise.reject(new Error("?client=rtsio")) : loadScript("socket.io/socket.io.min.js").then(function () {
      if (typeof window.io !== "function") throw new Error("socket.io/socket.io.min.js defined no io()");
      return {kind: "official", label: "socket.io-client (served at socket.io/socket.io.min.js)", connect: window.io};
    });
    return official.catch(function () {
      return loadScript("rtsio.js").then(function () {
        return {kind: "rtsio", label: "rtsio.js (rtproto's own small client)", connect: window.rtsio.connect};
      });
    });
  }

  function startChat(client) {
    var status = $("chat-status"), list = $("chat-messages"), transport = $("chat-transport");
    var input = $("chat-input"), sendButton = $("chat-send"), nickInput = $("chat-nick");
    var nick = "", typingTimer = null, engine = null;
    $("chat-client").textContent = client.label;
    $("chat-client").dataset.client = client.kind;

    var path = new URL("socket.io/", document.baseURI).pathname;
    var socket = client.connect("/chat", {path: path});

    function showTransport(name) {
      var history = transport.dataset.history ? transport.dataset.history.split(",") : [];
      history.push(name);
      transport.dataset.history = history.join(",");
      transport.textContent = history.join(" → ");
    }
    // Each new engine.io session starts on polling and may upgrade.
    socket.io.on("open", function () {
      if (socket.io.engine === engine) return;
      engine = socket.io.engine;
      showTransport(engine.transport.name);
      engine.on("upgrade", function (t) { showTransport(t.name); });
    });
    socket.io.on("reconnect_attempt", function (n) {
      setStatus(status, "reconnecting", "reconnecting (attempt " + n + ")…");
    });

    function setNick(name) {
      socket.emit("nick", name, function (used) {
        nick = used;
        status.dataset.nick = used;
        setStatus(status, "connected", "connected as " + used);
      });
    }
    socket.on("connect", function () {
      setStatus(status, "connected", "connected (" + socket.id + ")");
      if (nick) setNick(nick);                 // a new session gets a guest name
    });
    socket.on("disconnect", function (reason) { setStatus(status, "disconnected", "disconnected: " + reason); });
    socket.on("connect_error", function (err) { setStatus(status, "error", "could not connect: " + err.message); });

    socket.on("message", function (m) {
      addItem(list, clock(m.at) + m.from + ": " + m.text, {from: m.from, text: m.text, room: m.room}, "message");
    });
    socket.on("joined", function (j) { addItem(list, j.nick + " joined " + j.room, {notice: "joined", nick: j.nick}, "notice"); });
    socket.on("left", function (j) { addItem(list, j.nick + " left " + j.room, {notice: "left", nick: j.nick}, "notice"); });
    socket.on("typing", function (t) { $("chat-typing").textContent = t.typing ? t.nick + " is typing…" : ""; });

    $("chat-nick-form").addEventListener("submit", function (e) {
      e.preventDefault();
      if (nickInput.value.trim()) setNick(nickInput.value.trim());
    });
    function stopTyping() {
      if (typingTimer !== null) { clearTimeout(typingTimer); typingTimer = null; socket.emit("typing", false); }
    }
    input.addEventListener("input", function () {
      if (typingTimer === null) socket.emit("typing", true); else clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, 2000);
    });
    $("chat-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = input.value;
      if (!text) return;
      input.value = "";
      stopTyping();
      socket.emit("message", text, function (ok) {
        var key = ok ? "acked" : "refused";
        sendButton.dataset[key] = String(Number(sendButton.dataset[key]) + 1);
        if (!ok) setStatus(status, "connected", "the server refused “" + text + "”");
      });
    });
  }

  /* -- Server-Sent Events -------------------------------------------------- */

  function startEvents() {
    var status = $("sse-status"), lastLine = $("sse-last-id"), list = $("sse-messages");
    var lastId = "", resumeFrom = null, opens = 0;
    function open(url) {
      var source = new EventSource(url);
      source.onopen = function () {
        lastLine.dataset.opens = String(++opens);
        if (resumeFrom === null) return setStatus(status, "open", "connected");
        lastLine.dataset.resumedFrom = resumeFrom;
        setStatus(status, "open", "connected again, resumed after Last-Event-ID " + (resumeFrom || "(none)"));
        resumeFrom = null;
      };
      source.onerror = function () {
        if (resumeFrom === null) resumeFrom = lastId;
        if (source.readyState === EventSource.CONNECTING) {
          // The browser reconnects by itself, sending Last-Event-ID.
          setStatus(status, "reconnecting", "reconnecting with Last-Event-ID " + (lastId || "(none)") + "…");
        } else {
          // It gave up (an error status): try again ourselves, in 5 s.
          source.close();
          setStatus(status, "closed", "closed; again in 5 s with Last-Event-ID " + (lastId || "(none)"));
          setTimeout(open, 5000, "events" + (lastId ? "?lastEventId=" + encodeURIComponent(lastId) : ""));
        }
      };
      source.onmessage = function (e) {
        var m;
        try { m = JSON.parse(e.data); } catch (err) { m = {from: "?", text: e.data}; }
        lastId = e.lastEventId;
        lastLine.dataset.lastId = lastId;
        lastLine.textContent = "Last-Event-ID: " + lastId;
        addItem(list, "#" + e.lastEventId + " " + clock(m.at) + m.from + ": " + m.text,
                {id: e.lastEventId, from: m.from, text: m.text}, "message");
      };
    }
    open("events");
  }

  /* -- WebSocket feed ------------------------------------------------------ */

  function startFeed() {
    var list = $("feed-messages");
    reconnecting("feed", $("feed-status"), function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { m = {from: "?", text: String(e.data)}; }
      addItem(list, clock(m.at) + m.from + ": " + m.text, {from: m.from, text: m.text, json: e.data}, "message");
    });
  }

  startEcho();
  startEvents();
  startFeed();
  chooseClient().then(startChat, function (err) {
    setStatus($("chat-status"), "error", "no socket.io client could be loaded: " + err.message);
  });
})();
