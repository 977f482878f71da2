// The command application of the engine.io interop tests, for the reference
// Node engine.io server (eio_server.js).  It behaves exactly as
// tests/interop/eio_app.py (CommandHandler) does on rtproto: that module's
// docstring is the specification of the commands; keep the two in step.
"use strict";

const crypto = require("crypto");

const ASCII = "0123456789abcdefghijklmnopqrstuvwxyz";
const UNICODE = Array.from("aé€中😀\u2028\"\\\n\u0000z");
const SHORT = 40;

// N characters of 0-9a-z, repeated.
function asciiText(n) {
  let s = ASCII.repeat(Math.floor(n / ASCII.length));
  return s + ASCII.slice(0, n % ASCII.length);
}

// N code points cycling through UNICODE (one, two, three and four UTF-8
// bytes, an astral character, U+2028, a quote, a backslash, a newline, NUL).
function unicodeText(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = UNICODE[i % UNICODE.length];
  return out.join("");
}

// N bytes: byte i is i % 251.
function binaryData(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

function sha256(data) {
  return crypto.createHash("sha256").update(data).digest("hex");
}

// How "received?" describes one message.
function summary(data) {
  if (typeof data === "string") {
    const n = Array.from(data).length;
    return n <= SHORT ? data : { text: n, sha256: sha256(Buffer.from(data, "utf8")) };
  }
  const b = Buffer.from(data);
  return { binary: b.length, sha256: sha256(b) };
}

const closed = new Map(); // sid -> close reason
const closeWaiters = new Map(); // sid -> [callback]

function attach(socket) {
  const received = [];
  const upgrades = [];
  socket.on("upgrade", (transport) => upgrades.push(transport.name));
  socket.on("close", (reason) => {
    closed.set(socket.id, reason);
    const waiters = closeWaiters.get(socket.id) || [];
    closeWaiters.delete(socket.id);
    waiters.forEach((w) => w(reason));
  });
  socket.on("message", (data) => {
    // engine.io-parser 5 decodes an empty message ("4") as undefined.
    if (data === undefined) data = "";
    try {
      if (typeof data === "string" && command(socket, data, received, upgrades)) return;
      received.push(summary(data));
      socket.send(data);
    } catch (err) {
      process.stderr.write(`command app: ${err.stack || err}\n`);
    }
  });
}

function number(arg) {
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 0 || n > 16 << 20) throw new Error("bad count " + arg);
  return n;
}

// Obey a command; false if DATA is not one (it is then echoed).
function command(socket, data, received, upgrades) {
  const colon = data.indexOf(":");
  const name = colon < 0 ? data : data.slice(0, colon);
  const arg = colon < 0 ? "" : data.slice(colon + 1);
  switch (colon < 0 ? name : name + ":") {
    case "drop":
      socket.close();
      return true;
    case "transport?":
      socket.send(socket.transport.name);
      return true;
    case "protocol?":
      socket.send(String(socket.protocol));
      return true;
    case "sid?":
      socket.send(socket.id);
      return true;
    case "received?":
      socket.send("received:" + JSON.stringify(received));
      return true;
    case "upgrades?":
      socket.send("upgrades:" + JSON.stringify(upgrades));
      return true;
    case "big:":
      socket.send(asciiText(number(arg)));
      return true;
    case "uni:":
      socket.send(unicodeText(number(arg)));
      return true;
    case "bigbin:":
      socket.send(binaryData(number(arg)));
      return true;
    case "burst:":
      for (let i = 0, n = number(arg); i < n; i++) socket.send("m" + i);
      return true;
    case "mixed:":
      for (let i = 0, n = number(arg); i < n; i++) {
        socket.send(i % 2 ? Buffer.from("m" + i) : "m" + i);
      }
      return true;
    case "whenclosed:": {
      const reply = (reason) => socket.send("closed:" + reason);
      if (closed.has(arg)) {
        reply(closed.get(arg));
      } else {
        const timer = setTimeout(() => reply("still open"), 5000);
        const waiters = closeWaiters.get(arg) || [];
        waiters.push((reason) => {
          clearTimeout(timer);
          reply(reason);
        });
        closeWaiters.set(arg, waiters);
      }
      return true;
    }
    default:
      return false;
  }
}

module.exports = { attach, asciiText, unicodeText, binaryData, sha256, summary, SHORT };
