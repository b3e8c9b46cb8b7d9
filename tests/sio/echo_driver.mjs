// Drives tools/sio-echo (the conformance server) with the official socket.io-client and
// engine.io-client: the behaviour the protocol's reference test suites expect. Prints one
// line per scenario ("ok NAME" or "FAIL NAME: why") and exits non-zero if any failed.
//
//   node tests/sio/echo_driver.mjs --url http://127.0.0.1:PORT [--timeout-ms 5000]
import { io } from "socket.io-client";
import { Socket as EngineSocket } from "engine.io-client";
import WebSocket from "ws";

function parseArgs(argv) {
  const opts = { url: "", timeoutMs: 5000 };
  for (let i = 2; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    if (key === "--url") opts.url = value;
    else if (key === "--timeout-ms") opts.timeoutMs = Number(value);
    else throw new Error(`unknown option ${key}`);
  }
  if (!opts.url) throw new Error("--url is required");
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0)
    throw new Error("--timeout-ms must be a positive integer");
  return opts;
}

const opts = parseArgs(process.argv);
const sockets = [];

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), opts.timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function once(emitter, event) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
                     `'${event}'`);
}

function check(cond, why) {
  if (!cond) throw new Error(why);
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  check(a === e, `${what}: got ${a}, expected ${e}`);
}

// A socket.io-client socket, connected; resolves with the socket and the `auth` it got.
async function connect(path, options = {}) {
  const socket = io(opts.url + path, { reconnection: false, timeout: opts.timeoutMs,
                                      forceNew: true, ...options });
  sockets.push(socket);
  const auth = once(socket, "auth");
  await withTimeout(new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  }), "connect");
  return { socket, auth: (await auth)[0] };
}

async function echoes(socket) {
  const back = once(socket, "message-back");
  socket.emit("message", 1, "2", { 3: [true] });
  same(await back, [1, "2", { 3: [true] }], "message-back");
  const binary = once(socket, "message-back");
  socket.emit("message", Buffer.from([1, 2, 3]), "text");
  const [bytes, text] = await binary;
  check(Buffer.isBuffer(bytes) || bytes instanceof ArrayBuffer, "the attachment came back as binary");
  same([...new Uint8Array(bytes)], [1, 2, 3], "attachment bytes");
  same(text, "text", "argument after the attachment");
  const acked = await withTimeout(socket.emitWithAck("message-with-ack", 1, "2", { 3: [4] }),
                                  "the ack");
  same(acked, 1, "first ack argument");
  const all = await withTimeout(new Promise((resolve) =>
    socket.emit("message-with-ack", "a", Buffer.from([9]), (...args) => resolve(args))), "the binary ack");
  same(all[0], "a", "ack argument");
  same([...new Uint8Array(all[1])], [9], "ack attachment");
}

const scenarios = {
  async "default-transports"() {
    const { socket, auth } = await connect("/", { auth: { token: "abc", n: 1 } });
    same(auth, { token: "abc", n: 1 }, "auth echo");
    await echoes(socket);
    const engine = socket.io.engine;
    if (engine.transport.name !== "websocket")
      await once(engine, "upgrade");
    same(engine.transport.name, "websocket", "transport after the upgrade");
    await echoes(socket);
  },
  async "websocket-only"() {
    const { socket, auth } = await connect("/", { transports: ["websocket"] });
    same(auth, {}, "auth echo without auth");
    same(socket.io.engine.transport.name, "websocket", "transport");
    await echoes(socket);
  },
  async "polling-only"() {
    const { socket, auth } = await connect("/", { transports: ["polling"], auth: { a: [1, "x"] } });
    same(auth, { a: [1, "x"] }, "auth echo");
    same(socket.io.engine.transport.name, "polling", "transport");
    await echoes(socket);
    // Three heartbeats (pingInterval 300 ms) pass without the session closing.
    const engine = socket.io.engine;
    await withTimeout(new Promise((resolve) => {
      let pings = 0;
      engine.on("ping", () => { if (++pings === 3) resolve(); });
    }), "three pings");
    check(socket.connected, "still connected after heartbeats");
    await echoes(socket);
  },
  async "custom-namespace"() {
    const { socket, auth } = await connect("/custom", { auth: { ns: "custom" } });
    same(auth, { ns: "custom" }, "auth echo on /custom");
    await echoes(socket);
  },
  async "other-namespace-refused"() {
    const socket = io(opts.url + "/other", { reconnection: false, timeout: opts.timeoutMs,
                                             forceNew: true });
    sockets.push(socket);
    const [err] = await once(socket, "connect_error");
    same(err.message, "Invalid namespace", "connect_error message");
  },
  // The exact shapes the reference suites check, with plain HTTP long-polling requests.
  async "handshake-shape"() {
    const base = `${opts.url}/socket.io/?EIO=4&transport=polling`;
    const get = async (url) => withTimeout(fetch(url).then((r) => r.text()), `GET ${url}`);
    const open = await get(base);
    check(open[0] === "0", `open packet: ${open}`);
    const handshake = JSON.parse(open.slice(1));
    same(Object.keys(handshake).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"],
         "open packet fields");
    same([handshake.pingInterval, handshake.pingTimeout, handshake.maxPayload], [300, 200, 1000000],
         "open packet timings");
    const url = `${base}&sid=${handshake.sid}`;
    const post = await withTimeout(fetch(url, { method: "POST", body: '40{"x":[1]}' }).then((r) => r.text()),
                                   "POST");
    same(post, "ok", "POST answer");
    const records = [];
    // Pings ("2", every 300 ms) may come first on a slow machine: they are not answers.
    while (records.length < 2)
      records.push(...(await get(url)).split("\x1e").filter((r) => r !== "2"));
    check(records[0].startsWith("40"), `CONNECT answer: ${records[0]}`);
    same(Object.keys(JSON.parse(records[0].slice(2))), ["sid"], "CONNECT answer fields");
    same(records[1], '42["auth",{"x":[1]}]', "auth event");
  },
  // The exact frames the reference suite compares, on a raw WebSocket (pings skipped).
  async "wire-exact"() {
    const ws = new WebSocket(`${opts.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    sockets.push(ws);
    const inbox = [];
    const waiters = [];
    ws.on("message", (data, binary) => {
      const m = binary ? [...new Uint8Array(data)] : data.toString();
      if (m === "2") return ws.send("3");
      inbox.push(m);
      while (waiters.length && inbox.length) waiters.shift()(inbox.shift());
    });
    const next = () => withTimeout(new Promise((resolve) => {
      if (inbox.length) resolve(inbox.shift()); else waiters.push(resolve);
    }), "a frame");
    const open = JSON.parse((await next()).slice(1));
    same(open.upgrades, [], "upgrades on a WebSocket session");
    ws.send("40/random");
    same(await next(), '44/random,{"message":"Invalid namespace"}', "unknown namespace");
    ws.send("40");
    check((await next()).startsWith('40{"sid":"'), "CONNECT answer");
    same(await next(), '42["auth",{}]', "auth without a payload");
    ws.send('42["message",1,"2",{"3":[true]}]');
    same(await next(), '42["message-back",1,"2",{"3":[true]}]', "message-back");
    const ph = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}';
    ws.send(`452-["message",${ph}]`);
    ws.send(Uint8Array.from([1, 2, 3]));
    ws.send(Uint8Array.from([4, 5, 6]));
    same([await next(), await next(), await next()],
         [`452-["message-back",${ph}]`, [1, 2, 3], [4, 5, 6]], "binary message-back");
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    same(await next(), '43456[1,"2",{"3":[false]}]', "ack");
    ws.send(`452-789["message-with-ack",${ph}]`);
    ws.send(Uint8Array.from([7]));
    ws.send(Uint8Array.from([8]));
    same([await next(), await next(), await next()], [`462-789[${ph}]`, [7], [8]], "binary ack");
    ws.send("40/custom,");
    check((await next()).startsWith('40/custom,{"sid":"'), "CONNECT answer on /custom");
    same(await next(), '42/custom,["auth",{}]', "auth on /custom");
    ws.send("41/custom,");
    ws.send('42["message","main"]');
    same(await next(), '42["message-back","main"]', "main namespace after leaving /custom");
    const closed = once(ws, "close");
    ws.send("4abc");
    await closed;
  },
  async "engineio-echo"() {
    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
      const socket = new EngineSocket(opts.url, { path: "/engine.io/", transports });
      sockets.push(socket);
      await once(socket, "open");
      const got = [];
      socket.on("message", (m) => got.push(m));
      socket.send("hello");
      socket.send(Buffer.from([0, 1, 255]));
      await withTimeout(new Promise((resolve) => {
        const poll = setInterval(() => { if (got.length >= 2) { clearInterval(poll); resolve(); } }, 10);
      }), `echoes on ${transports}`);
      same(got[0], "hello", `text echo on ${transports}`);
      same([...new Uint8Array(got[1])], [0, 1, 255], `binary echo on ${transports}`);
    }
  },
};

let failed = 0;
for (const [name, run] of Object.entries(scenarios)) {
  try {
    await run();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
  for (const s of sockets.splice(0)) s.close ? s.close() : s.disconnect();
}
process.exit(failed ? 1 : 0);
