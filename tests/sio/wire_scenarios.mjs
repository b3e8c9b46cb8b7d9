// Scenarios below and beside socket.io-client: native WebSocket clients (the `ws` package)
// in the same rooms as Socket.IO clients, and hand-made Engine.IO / Socket.IO input that a
// client library would never send. Each must get a clear answer and leave the node serving.
import assert from "node:assert/strict";
import http from "node:http";
import WebSocket from "ws";

// A native protocol client (PROTOCOL.md) on /ws: frames are JSON objects.
async function nativeClient(ctx, user) {
  const url = new URL(ctx.opts.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = "/ws";
  url.search = `?user=${encodeURIComponent(user)}`;
  const ws = new WebSocket(url);
  const frames = [];
  const waiters = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  ctx.onClose(() => ws.close());
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const client = {
    send: (obj) => ws.send(JSON.stringify(obj)),
    close: () => ws.close(),
    // The first frame (taken from the queue) matching `pred`, within the timeout.
    async next(pred) {
      const deadline = Date.now() + ctx.opts.timeoutMs;
      for (;;) {
        const i = frames.findIndex(pred);
        if (i >= 0) return frames.splice(i, 1)[0];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`native ${user}: no matching frame in ${ctx.opts.timeoutMs} ms`);
        await new Promise((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
    },
  };
  assert.equal((await client.next((f) => f.op === "hello")).user, user);
  return client;
}

function endpoint(ctx, query) {
  const url = new URL(ctx.opts.url);
  url.pathname = "/socket.io/";
  url.search = query;
  return url;
}

// A polling session opened by hand: its sid.
async function openPolling(ctx) {
  const res = await fetch(endpoint(ctx, "?EIO=4&transport=polling"));
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.equal(body[0], "0", `open packet expected, got ${body}`);
  return JSON.parse(body.slice(1)).sid;
}

// An Engine.IO error answer: status and its JSON {code, message}.
async function expectError(res, status) {
  assert.equal(res.status, status);
  const err = await res.json();
  assert.equal(typeof err.code, "number");
  assert.ok(err.message.length > 0, "the error says why");
  return err;
}

// A raw WebSocket on the Engine.IO endpoint, after its open packet.
async function rawWebsocket(ctx) {
  const url = endpoint(ctx, "?EIO=4&transport=websocket");
  url.protocol = "ws:";
  const ws = new WebSocket(url);
  ctx.onClose(() => ws.terminate());
  const messages = [];
  ws.on("message", (data) => messages.push(data.toString()));
  const closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, messages, closed };
}

// A plain HTTP request with the given headers (fetch may not send Origin as given).
function rawRequest(url, method, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function withTimeout(ctx, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ctx.opts.timeoutMs} ms`)), ctx.opts.timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Scenarios that need a particular node (a restart between two runs, a short heartbeat,
// accounts): run only when named.
export const explicitOnly = new Set([
  "restart-write", "restart-read", "heartbeat", "proxy-spread", "token-auth",
]);

export const wireScenarios = {
  // With --run fixed, before a kill -9 of the node: a persisted-acked message...
  async "restart-write"(ctx) {
    const s = await ctx.connect(ctx.user("durable"));
    await ctx.request(s, "join", { room: ctx.room("restart") });
    const ack = await ctx.request(s, "send", { room: ctx.room("restart"), text: "survives", cid: "d1", ack: "persisted" });
    assert.equal(ack.seq, 1);
  },

  // ...is there after the restart, the same cid is still deduplicated, and seqs go on.
  async "restart-read"(ctx) {
    const room = ctx.room("restart");
    const s = await ctx.connect(ctx.user("durable"));
    const replay = ctx.collect(s, "msg", 1);
    const joined = await ctx.request(s, "join", { room, since: 0 });
    assert.equal(joined.seq, 1);
    assert.equal((await replay)[0].text, "survives");
    const again = await ctx.request(s, "send", { room, text: "survives", cid: "d1" });
    assert.equal(again.seq, 1, "the retried cid keeps its seq");
    const next = await ctx.request(s, "send", { room, text: "new", cid: "d2" });
    assert.equal(next.seq, 2);
  },

  // Through deploy/nginx.conf in front of two nodes: clients from 8 client addresses
  // (127.0.N.1, different /24s for ip_hash) on polling, the upgrade and WebSocket all
  // chat, and both nodes served some of them (hello names the node). Every polling
  // request of a session must reach its node: a non-sticky proxy fails this.
  async "proxy-spread"(ctx) {
    const nodes = new Set();
    const kinds = [
      { transports: ["polling"], upgrade: false },
      {},
      { transports: ["websocket"] },
    ];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const agent = new http.Agent({ keepAlive: true, localAddress: `127.0.${i + 1}.1` });
        ctx.onClose(() => agent.destroy());
        const s = await ctx.connect(ctx.user(`spread${i}`), { agent, ...kinds[i % kinds.length] });
        nodes.add(s.hello.node);
        const room = ctx.room(`spread${i}`);
        const joined = await ctx.request(s, "join", { room });
        for (let k = 1; k <= 5; k++) {
          const ack = await ctx.request(s, "send", { room, text: `m${k}`, cid: ctx.cid() });
          assert.equal(ack.seq, joined.seq + k);
        }
        const h = await ctx.request(s, "history", { room });
        assert.equal(h.messages.length, 5);
      }),
    );
    assert.equal(nodes.size, 2, `clients reached ${[...nodes].join(", ")}`);
    const n = await nativeClient(ctx, ctx.user("native-proxy"));
    const room = ctx.room("native-proxy");
    n.send({ op: "join", room });
    await n.next((f) => f.op === "joined");
    n.send({ op: "send", room, text: "through nginx", cid: "p1" });
    assert.equal((await n.next((f) => f.op === "msg")).text, "through nginx");
    assert.equal((await n.next((f) => f.op === "ack")).seq, 1);
  },

  // On a node with a short heartbeat: idle clients on both transports answer its pings and
  // stay connected for several intervals.
  async heartbeat(ctx) {
    const ws = await ctx.connect(ctx.user("idle-ws"), { transports: ["websocket"] });
    const poll = await ctx.connect(ctx.user("idle-poll"), { transports: ["polling"], upgrade: false });
    const interval = ws.io.engine._pingInterval;
    assert.ok(interval <= 1000, `run against a node with sio.ping-interval <= 1s (got ${interval})`);
    let disconnected = "";
    for (const s of [ws, poll]) s.on("disconnect", (why) => (disconnected ||= why));
    await new Promise((resolve) => setTimeout(resolve, 4 * interval));
    assert.equal(disconnected, "");
    for (const s of [ws, poll]) assert.equal((await ctx.request(s, "ping", {})).op, "pong");
  },

  // Native and Socket.IO members of one room see each other's messages, in one order,
  // and the member/typing/read events.
  async "mixed-room"(ctx) {
    const room = ctx.room("mixed");
    const n = await nativeClient(ctx, ctx.user("nat"));
    const s = await ctx.connect(ctx.user("sio"));
    n.send({ op: "join", room, rid: 1 });
    const joined = await n.next((f) => f.op === "joined");
    await ctx.request(s, "join", { room });
    const fromNative = ctx.waitFor(s, "msg", (m) => m.from === ctx.user("nat"));
    n.send({ op: "send", room, text: "from native", cid: "n1" });
    const ack = await n.next((f) => f.op === "ack");
    const m = await fromNative;
    assert.equal(m.seq, ack.seq);
    assert.equal(m.text, "from native");
    const sack = await ctx.request(s, "send", { room, text: "from sio", cid: ctx.cid() });
    assert.equal(sack.seq, joined.seq + 2);
    const nm = await n.next((f) => f.op === "msg" && f.from === ctx.user("sio"));
    assert.equal(nm.seq, sack.seq);
    assert.equal(nm.text, "from sio");
    // typing and read from Socket.IO reach the native member, and back.
    s.emit("typing", { room });
    const t = await n.next((f) => f.op === "typing");
    assert.equal(t.user, ctx.user("sio"));
    const typing = ctx.waitFor(s, "typing");
    n.send({ op: "typing", room });
    assert.equal((await typing).user, ctx.user("nat"));
    const read = ctx.waitFor(s, "read");
    n.send({ op: "read", room, seq: sack.seq });
    const r = await read;
    assert.equal(r.user, ctx.user("nat"));
    assert.equal(r.seq, sack.seq);
    s.emit("read", { room, seq: 1e9 });
    const nr = await n.next((f) => f.op === "read");
    assert.equal(nr.seq, sack.seq, "a read mark above the last seq is clamped");
  },

  // presence over Socket.IO: the query answers through the ack; a native user's departure
  // reaches the Socket.IO member as an offline event.
  async presence(ctx) {
    const room = ctx.room("presence");
    const s = await ctx.connect(ctx.user("watcher"));
    await ctx.request(s, "join", { room });
    const n = await nativeClient(ctx, ctx.user("leaver"));
    n.send({ op: "join", room });
    await n.next((f) => f.op === "joined");
    const p = await ctx.request(s, "presence", { users: [ctx.user("leaver"), ctx.user("nobody")] });
    assert.equal(p.op, "presence");
    assert.equal(p.users[ctx.user("leaver")], "online");
    assert.equal(p.users[ctx.user("nobody")], "offline");
    const offline = ctx.waitFor(s, "presence", (e) => e.user === ctx.user("leaver") && e.status === "offline");
    n.close();
    await offline;
  },

  // Durable acks: ack:"persisted" waits for the store, then history has the message.
  async persisted(ctx) {
    const room = ctx.room("persisted");
    const s = await ctx.connect(ctx.user("keeper"), { transports: ["polling"], upgrade: false });
    await ctx.request(s, "join", { room });
    const ack = await ctx.request(s, "send", { room, text: "kept", cid: ctx.cid(), ack: "persisted" });
    assert.equal(ack.op, "ack");
    const h = await ctx.request(s, "history", { room });
    assert.deepEqual(h.messages.map((m) => m.seq), [ack.seq]);
  },

  // On a node with net.allowed-origins=https://app.example (the e2e test's): that page
  // may poll cross-origin (with credentials), a page of another origin gets 403 for
  // polling, preflights and the WebSocket; a client without Origin passes.
  async cors(ctx) {
    const poll = endpoint(ctx, "?EIO=4&transport=polling");
    const pre = await rawRequest(poll, "OPTIONS", {
      Origin: "https://app.example",
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "content-type",
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(pre.headers["access-control-allow-headers"], "content-type");
    const open = await rawRequest(poll, "GET", { Origin: "https://app.example" });
    assert.equal(open.status, 200);
    assert.equal(open.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(open.headers["access-control-allow-credentials"], "true");
    assert.equal(open.body[0], "0");
    for (const method of ["GET", "OPTIONS"]) {
      const evil = await rawRequest(poll, method, { Origin: "https://evil.example" });
      assert.equal(evil.status, 403, `${method} from another origin`);
      assert.equal(evil.headers["access-control-allow-origin"], undefined);
    }
    const wsUrl = endpoint(ctx, "?EIO=4&transport=websocket");
    wsUrl.protocol = "ws:";
    const refused = await new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, { origin: "https://evil.example" });
      ws.on("unexpected-response", (_, res) => resolve(res.statusCode));
      ws.on("open", () => resolve("open"));
      ws.on("error", () => {});
    });
    assert.equal(refused, 403);
    const s = await ctx.connect(ctx.user("cors"), { extraHeaders: { Origin: "https://app.example" } });
    assert.equal(s.hello.op, "hello");
  },

  // Engine.IO requests no client library sends: each gets its error answer.
  async "bad-engineio"(ctx) {
    await expectError(await fetch(endpoint(ctx, "?EIO=3&transport=polling")), 400);
    await expectError(await fetch(endpoint(ctx, "?EIO=4&transport=carrier-pigeon")), 400);
    await expectError(await fetch(endpoint(ctx, "?EIO=4&transport=polling&sid=nope")), 400);
    const sid = await openPolling(ctx);
    // A body that is no Engine.IO payload ends the session with an error answer.
    const bad = await fetch(endpoint(ctx, `?EIO=4&transport=polling&sid=${sid}`), {
      method: "POST",
      body: "\u001e\u001ezz",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
    });
    await expectError(bad, 400);
    await expectError(await fetch(endpoint(ctx, `?EIO=4&transport=polling&sid=${sid}`)), 400);
    // A body over the node's bound (64 KiB in the e2e test) is refused from its length.
    const sid2 = await openPolling(ctx);
    const big = await fetch(endpoint(ctx, `?EIO=4&transport=polling&sid=${sid2}`), {
      method: "POST",
      body: "4" + "x".repeat(65536),
    });
    assert.equal(big.status, 413);
  },

  // Malformed Socket.IO packets close that connection only; the node keeps serving.
  async "bad-socketio"(ctx) {
    for (const packet of ['42["send",', "4x", '40{"user":1}', "42[]", "4" + "9".repeat(30) + '["x"]', '42[{"op":"send"}]']) {
      const raw = await rawWebsocket(ctx);
      raw.ws.send('40{"user":"' + ctx.user("raw") + '"}');
      raw.ws.send(packet);
      const end = await withTimeout(ctx, raw.closed, `no close after ${JSON.stringify(packet)}`);
      assert.ok(end.code === 1000 || end.code === 1002 || end.code === 1008, `close code ${end.code} for ${packet}`);
    }
    // Invalid UTF-8 in a text frame fails the WebSocket (1007).
    const raw = await rawWebsocket(ctx);
    raw.ws._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x34, 0xff]));
    const end = await withTimeout(ctx, raw.closed, "no close after invalid UTF-8");
    assert.equal(end.code, 1007);
    const s = await ctx.connect(ctx.user("after"));
    const joined = await ctx.request(s, "join", { room: ctx.room("after") });
    assert.equal(joined.op, "joined");
  },
};
