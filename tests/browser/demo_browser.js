// demo_browser.js: drives rtproto's demo page (rtproto/demo/) in a real
// browser, Debian's chromium, through playwright-core (from
// tests/interop/node_modules; no browser is downloaded), using only the
// page's own UI: typing in its inputs, clicking its buttons and reading its
// DOM (the data-testid / data-* attributes demo.js keeps up to date).
//
//   node demo_browser.js --url http://127.0.0.1:PORT/ --token TOKEN
//       --client official|rtsio --screenshots DIR [--chromium PATH]
//       [--timeout SECONDS]
//
// The server is the default app (twistd -n rtproto) started by
// test_demo_page.py with --sse-publish-token TOKEN; --client says which
// socket.io client the page is expected to pick (official: the server was
// given --sio-client-dist; rtsio: the page's fallback, rtsio.js).
//
// The scenario, with two people (alice and bob), each in a browser context
// of their own:
//   1. echo: alice sends text, then binary, on /ws and sees both echoed;
//   2. chat: both connect to /chat over socket.io (the transport history
//      must be polling, then websocket), set their nicknames, bob sees alice
//      typing, and they exchange a message each way (acknowledged);
//   3. feeds: both pages show both messages over SSE (/events, with ids)
//      and over the WebSocket feed (/feed);
//   4. SSE resumption: the streams are dropped from the server side (POST
//      /events/disconnect with the token); while the pages wait to
//      reconnect, alice says something (the server's /events/stats proves
//      no stream was open then); the pages reconnect with Last-Event-ID and
//      get that message, once, replayed; a message after that arrives live.
// At the end (also after a failure) each page is saved as a PNG in the
// screenshots folder.
//
// Output: progress on stderr; one JSON line on stdout, the observations
// (with "error" when a step failed; the exit status is then 1).  Every wait
// is bounded by --timeout (default 15 s) and waits for a DOM condition or
// an event, never for a fixed time.
"use strict";

const fs = require("fs");
const path = require("path");

const INTEROP_MODULES = path.resolve(__dirname, "..", "interop", "node_modules");
const { chromium } = require(path.join(INTEROP_MODULES, "playwright-core"));

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function parseArgs(argv) {
  const o = { url: null, token: null, client: null, screenshots: null, chromium: "/usr/bin/chromium", timeout: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(a + " needs a value");
      return argv[++i];
    };
    if (a === "--url") o.url = value();
    else if (a === "--token") o.token = value();
    else if (a === "--client") o.client = value();
    else if (a === "--screenshots") o.screenshots = value();
    else if (a === "--chromium") o.chromium = value();
    else if (a === "--timeout") o.timeout = Number(value());
    else throw new Error("unknown argument " + a);
  }
  if (!o.url || !o.token || !["official", "rtsio"].includes(o.client) || !o.screenshots) {
    throw new Error("usage: demo_browser.js --url URL --token T --client official|rtsio --screenshots DIR");
  }
  const host = new URL(o.url).hostname;
  if (host !== "127.0.0.1") throw new Error("only 127.0.0.1 is tested, not " + host);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const TIMEOUT = opts.timeout * 1000;
const facts = { client: opts.client, steps: [], screenshots: [], problems: [] };
let step = "start";

function progress(text) {
  step = text;
  facts.steps.push(text);
  process.stderr.write(`[demo_browser ${opts.client}] ${text}\n`);
}

function utf8Hex(text) {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/* The items of a log (an <ol> of the page) as plain objects: text and data-*. */
function readLog(page, testid) {
  return page.evaluate((id) => {
    const list = document.querySelector(`[data-testid="${id}"]`);
    return Array.from(list.children, (li) => Object.assign({ line: li.textContent }, li.dataset));
  }, testid);
}

/* Wait until the log `testid` has an item whose data-* include `attrs`. */
async function waitForItem(page, testid, attrs, what) {
  try {
    await page.waitForFunction(
      ([id, wanted]) => {
        const list = document.querySelector(`[data-testid="${id}"]`);
        return Array.from(list.children).some((li) => Object.keys(wanted).every((k) => li.dataset[k] === wanted[k]));
      },
      [testid, attrs],
      { timeout: TIMEOUT },
    );
  } catch (e) {
    const items = await readLog(page, testid).catch(() => "(unreadable)");
    throw new Error(`${what}: no item ${JSON.stringify(attrs)} in ${testid} within ${opts.timeout} s; it has ${JSON.stringify(items)}`);
  }
  return (await readLog(page, testid)).filter((item) => Object.keys(attrs).every((k) => item[k] === attrs[k]));
}

/* Wait until the element `testid` has data-`key` equal to `value`. */
async function waitForData(page, testid, key, value, what) {
  try {
    await page.waitForFunction(
      ([id, k, v]) => document.querySelector(`[data-testid="${id}"]`).dataset[k] === v,
      [testid, key, value],
      { timeout: TIMEOUT },
    );
  } catch (e) {
    const now = await page.evaluate((id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      return { text: el.textContent, data: Object.assign({}, el.dataset) };
    }, testid).catch(() => "(unreadable)");
    throw new Error(`${what}: ${testid} data-${key} is not ${JSON.stringify(value)} within ${opts.timeout} s; it is ${JSON.stringify(now)}`);
  }
}

function dataOf(page, testid) {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    return Object.assign({ text: el.textContent }, el.dataset);
  }, testid);
}

/* An HTTP request to the server under test, bounded. */
async function http(method, pathname, token) {
  const response = await fetch(new URL(pathname, opts.url), {
    method,
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${method} ${pathname}: HTTP ${response.status} ${body}`);
  return JSON.parse(body);
}

async function openPerson(browser, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on("pageerror", (e) => facts.problems.push(`${name}: uncaught ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    const where = m.location() && m.location().url;
    const text = `${name}: console ${m.type()}: ${m.text()}${where ? " (" + where + ")" : ""}`;
    // Without --sio-client-dist the page first tries socket.io/socket.io.min.js,
    // which is then not there: that one failure is how the fallback works.
    const expected = opts.client === "rtsio" && /Failed to load resource/.test(m.text()) && /socket\.io\/socket\.io\.min\.js/.test(where || "");
    (expected ? (facts.expectedConsole = facts.expectedConsole || []) : facts.problems).push(text);
  });
  await page.goto(opts.url, { waitUntil: "load", timeout: TIMEOUT });
  return { name, context, page };
}

async function echo(person) {
  const { page } = person;
  progress(`${person.name}: WebSocket echo`);
  await waitForData(page, "ws-status", "state", "open", "the echo WebSocket to open");
  const text = `hello ✓ ${Date.now().toString(36)}`;
  await page.getByTestId("ws-input").fill(text);
  await page.getByTestId("ws-send").click();
  const textEcho = await waitForItem(page, "ws-log", { dir: "in", kind: "text", value: text }, "the text echo");
  await page.getByTestId("ws-send-binary").click();
  const hex = utf8Hex(text);
  const binaryEcho = await waitForItem(page, "ws-log", { dir: "in", kind: "binary", value: hex }, "the binary echo");
  facts.echo = { text, hex, textEcho: textEcho[0], binaryEcho: binaryEcho[0], log: await readLog(page, "ws-log") };
}

async function joinChat(person) {
  const { page, name } = person;
  progress(`${name}: socket.io chat connects`);
  await waitForData(page, "chat-status", "state", "connected", `${name}'s chat to connect`);
  await waitForData(page, "chat-transport", "history", "polling,websocket", `${name}'s transport to go polling → websocket`);
  await page.getByTestId("chat-nick").fill(name);
  await page.getByTestId("chat-nick-set").click();
  await waitForData(page, "chat-status", "nick", name, `${name}'s nickname to be acknowledged`);
  person.chat = { client: await dataOf(page, "chat-client"), transport: await dataOf(page, "chat-transport") };
}

/* `from` says `text` through the page's chat form; `to` sees it. */
async function say(from, to, text, checkTyping) {
  progress(`${from.name} says ${JSON.stringify(text)}`);
  const acked = Number((await dataOf(from.page, "chat-send")).acked);
  await from.page.getByTestId("chat-input").fill(text);
  if (checkTyping) {
    await to.page.getByText(`${from.name} is typing…`).waitFor({ timeout: TIMEOUT });
    facts.typingSeen = (await dataOf(to.page, "chat-typing")).text;
  }
  await from.page.getByTestId("chat-send").click();
  await waitForData(from.page, "chat-send", "acked", String(acked + 1), `${from.name}'s message to be acknowledged`);
  for (const person of [to, from]) {
    await waitForItem(person.page, "chat-messages", { from: from.name, text }, `${person.name} to get ${from.name}'s message`);
  }
}

/* Both feeds of `person` show `text` from `who`; returns the SSE items. */
async function feedsShow(person, who, text) {
  const sse = await waitForItem(person.page, "sse-messages", { from: who, text }, `${person.name}'s SSE (/events) to show ${JSON.stringify(text)}`);
  await waitForItem(person.page, "feed-messages", { from: who, text }, `${person.name}'s WebSocket feed (/feed) to show ${JSON.stringify(text)}`);
  return sse;
}

async function screenshots(people) {
  fs.mkdirSync(opts.screenshots, { recursive: true });
  for (const { page, name } of people) {
    const file = path.resolve(opts.screenshots, `demo-${opts.client}-${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: TIMEOUT });
      facts.screenshots.push(file);
    } catch (e) {
      facts.problems.push(`${name}: no screenshot: ${e.message}`);
    }
  }
}

async function scenario(browser, people) {
  const [alice, bob] = people;
  progress("opening the page twice");
  const opened = await Promise.all([openPerson(browser, "alice"), openPerson(browser, "bob")]);
  Object.assign(alice, opened[0]);
  Object.assign(bob, opened[1]);

  // (1) WebSocket echo, text and binary.
  await echo(alice);

  // (2) socket.io chat between two browser contexts.
  await joinChat(alice);
  await joinChat(bob);
  facts.chat = { alice: alice.chat, bob: bob.chat };
  for (const person of people) {
    if (person.chat.client.client !== opts.client) {
      throw new Error(`${person.name}'s page uses the ${person.chat.client.client} socket.io client, not ${opts.client}`);
    }
  }
  await waitForData(bob.page, "sse-status", "state", "open", "bob's EventSource to open");
  await waitForData(alice.page, "sse-status", "state", "open", "alice's EventSource to open");
  await waitForData(alice.page, "feed-status", "state", "open", "alice's /feed WebSocket to open");
  await waitForData(bob.page, "feed-status", "state", "open", "bob's /feed WebSocket to open");
  const run = Date.now().toString(36);
  const first = `hello bob, it's alice (${run})`;
  const second = `hi alice — bob here ✓ (${run})`;
  await say(alice, bob, first, true);
  await say(bob, alice, second, false);

  // (3) the same messages over SSE and over the WebSocket feed.
  progress("the feeds show the chat");
  facts.sseIds = {};
  for (const person of people) {
    const a = await feedsShow(person, "alice", first);
    const b = await feedsShow(person, "bob", second);
    facts.sseIds[person.name] = [a[0].id, b[0].id];
  }

  // (4) the server drops the SSE streams; a message is said meanwhile.
  progress("dropping the SSE streams from the server");
  const before = {};
  for (const person of people) {
    before[person.name] = await dataOf(person.page, "sse-last-id");
  }
  facts.sseBefore = before;
  const dropped = await http("POST", "events/disconnect", opts.token);
  facts.disconnected = dropped.disconnected;
  for (const person of people) {
    await waitForData(person.page, "sse-status", "state", "reconnecting", `${person.name}'s EventSource to notice the drop`);
  }
  const during = `said while SSE was down (${run})`;
  await say(alice, bob, during, false);
  facts.statsWhileDown = await http("GET", "events/stats", opts.token);
  progress("waiting for the EventSources to come back");
  for (const person of people) {
    await waitForData(person.page, "sse-last-id", "opens", "2", `${person.name}'s EventSource to reconnect`);
    await waitForData(person.page, "sse-status", "state", "open", `${person.name}'s EventSource to be open again`);
  }
  const after = `after the reconnection (${run})`;
  await say(bob, alice, after, false);
  facts.sseAfter = {};
  for (const person of people) {
    await feedsShow(person, "alice", during);
    await feedsShow(person, "bob", after);
    facts.sseAfter[person.name] = {
      lastId: await dataOf(person.page, "sse-last-id"),
      status: await dataOf(person.page, "sse-status"),
      sse: await readLog(person.page, "sse-messages"),
      feed: await readLog(person.page, "feed-messages"),
      chat: await readLog(person.page, "chat-messages"),
    };
  }
  facts.texts = { first, second, during, after };
  progress("done");
}

async function main() {
  const people = [{ name: "alice" }, { name: "bob" }];
  let browser = null;
  try {
    progress(`launching ${opts.chromium}`);
    browser = await chromium.launch({
      executablePath: opts.chromium,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 30000,
    });
    facts.browserVersion = browser.version();
    await scenario(browser, people);
  } catch (e) {
    facts.error = `${step}: ${e.message}`;
  } finally {
    if (browser !== null) {
      await screenshots(people.filter((p) => p.page));
      await browser.close().catch((e) => facts.problems.push(`closing the browser: ${e.message}`));
    }
  }
  process.stdout.write(JSON.stringify(facts) + "\n");
  process.exitCode = facts.error ? 1 : 0;
}

main();
