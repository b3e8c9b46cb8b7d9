// The Socket.IO scenarios of issue 11, each an async function of the driver's context.
// Replies come through the ack callback as the native objects ({op, ...}); pushes are
// events named after their op.
import assert from "node:assert/strict";

// join + send with ack on a connected socket; returns the ack.
async function chatRoundTrip(ctx, socket, room) {
  const joined = await ctx.request(socket, "join", { room });
  assert.equal(joined.op, "joined");
  assert.equal(joined.room, room);
  const ack = await ctx.request(socket, "send", { room, text: "hello", cid: ctx.cid() });
  assert.equal(ack.op, "ack");
  assert.equal(ack.room, room);
  assert.equal(ack.seq, joined.seq + 1);
  return ack;
}

function waitUpgrade(ctx, socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`still on ${engine.transport.name} after ${ctx.opts.timeoutMs} ms`)),
      ctx.opts.timeoutMs,
    );
    engine.once("upgrade", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export const scenarios = {
  // The client's defaults: long-polling first, then the upgrade to WebSocket.
  async "default-upgrade"(ctx) {
    const s = await ctx.connect(ctx.user("alice"));
    assert.equal(s.hello.op, "hello");
    await waitUpgrade(ctx, s);
    assert.equal(s.io.engine.transport.name, "websocket");
    await chatRoundTrip(ctx, s, ctx.room("upgrade"));
  },

  async "websocket-only"(ctx) {
    const s = await ctx.connect(ctx.user("bob"), { transports: ["websocket"] });
    assert.equal(s.io.engine.transport.name, "websocket");
    await chatRoundTrip(ctx, s, ctx.room("ws"));
  },

  async "polling-only"(ctx) {
    const s = await ctx.connect(ctx.user("carol"), { transports: ["polling"], upgrade: false });
    assert.equal(s.io.engine.transport.name, "polling");
    const room = ctx.room("polling");
    await chatRoundTrip(ctx, s, room);
    // Pushes arrive over polling too.
    const other = await ctx.connect(ctx.user("dave"), { transports: ["websocket"] });
    await ctx.request(other, "join", { room });
    const got = ctx.waitFor(s, "msg", (m) => m.from === ctx.user("dave"));
    await ctx.request(other, "send", { room, text: "to polling", cid: ctx.cid() });
    assert.equal((await got).text, "to polling");
    assert.equal(s.io.engine.transport.name, "polling");
  },

  // A repeated cid is acked with its first seq and delivered once.
  async dedupe(ctx) {
    const room = ctx.room("dedupe");
    const a = await ctx.connect(ctx.user("erin"));
    const b = await ctx.connect(ctx.user("frank"));
    await ctx.request(a, "join", { room });
    await ctx.request(b, "join", { room });
    const msgs = [];
    b.on("msg", (m) => msgs.push(m));
    const cid = ctx.cid();
    const first = await ctx.request(a, "send", { room, text: "once", cid });
    const again = await ctx.request(a, "send", { room, text: "once", cid });
    assert.equal(again.seq, first.seq);
    const marker = await ctx.request(a, "send", { room, text: "marker", cid: ctx.cid() });
    if (!msgs.some((m) => m.seq === marker.seq))
      await ctx.waitFor(b, "msg", (m) => m.seq === marker.seq);
    assert.deepEqual(msgs.map((m) => m.seq), [first.seq, marker.seq]);
  },

  // Many sends without waiting: one gap-free order for the receiver, acks in order.
  async order(ctx) {
    const n = 200;
    const room = ctx.room("order");
    const a = await ctx.connect(ctx.user("gina"));
    const b = await ctx.connect(ctx.user("hal"), { transports: ["polling"], upgrade: false });
    const joined = await ctx.request(a, "join", { room });
    await ctx.request(b, "join", { room });
    const received = ctx.collect(b, "msg", n);
    const acks = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ctx.request(a, "send", { room, text: `m${i}`, cid: ctx.cid() }),
      ),
    );
    acks.forEach((ack, i) => assert.equal(ack.seq, joined.seq + 1 + i));
    const msgs = await received;
    msgs.forEach((m, i) => {
      assert.equal(m.seq, joined.seq + 1 + i);
      assert.equal(m.text, `m${i}`);
    });
  },

  async history(ctx) {
    const room = ctx.room("history");
    const a = await ctx.connect(ctx.user("ivan"));
    await ctx.request(a, "join", { room });
    for (const text of ["one", "two", "three"])
      await ctx.request(a, "send", { room, text, cid: ctx.cid() });
    const h = await ctx.request(a, "history", { room, limit: 2 });
    assert.equal(h.op, "history");
    assert.deepEqual(h.messages.map((m) => m.text), ["two", "three"]);
  },

  // A reconnecting client resumes with `since` and misses nothing.
  async "since-after-reconnect"(ctx) {
    const room = ctx.room("since");
    const a = await ctx.connect(ctx.user("judy"));
    await ctx.request(a, "join", { room });
    let b = await ctx.connect(ctx.user("ken"));
    const joined = await ctx.request(b, "join", { room });
    b.disconnect();
    const sent = [];
    for (let i = 0; i < 3; i++)
      sent.push(await ctx.request(a, "send", { room, text: `missed${i}`, cid: ctx.cid() }));
    b = await ctx.connect(ctx.user("ken"));
    const replay = ctx.collect(b, "msg", 3);
    const rejoined = await ctx.request(b, "join", { room, since: joined.seq });
    assert.equal(rejoined.seq, sent[2].seq);
    assert.deepEqual((await replay).map((m) => m.seq), sent.map((s) => s.seq));
  },

  // A bad chat payload gets the error through the ack; nobody is disconnected.
  async "bad-payload"(ctx) {
    const room = ctx.room("bad");
    const a = await ctx.connect(ctx.user("lena"));
    const b = await ctx.connect(ctx.user("mike"));
    const err = await ctx.request(a, "join", {});
    assert.equal(err.op, "error");
    assert.equal(err.code, "bad_request");
    const unknown = await ctx.request(a, "fly", {});
    assert.equal(unknown.code, "bad_request");
    assert.ok(a.connected && b.connected);
    await chatRoundTrip(ctx, a, room);
    await chatRoundTrip(ctx, b, ctx.room("bad2"));
  },

  async "bad-token"(ctx) {
    const err = await ctx.refused({ auth: { token: "not-a-token" } });
    assert.ok(err.message, "connect_error carries a message");
  },

  async "invalid-namespace"(ctx) {
    const url = new URL(ctx.opts.url);
    url.pathname = "/admin";
    const { io } = await import("socket.io-client");
    const s = io(url.toString(), { reconnection: false, auth: { user: ctx.user("nina") } });
    try {
      const err = await new Promise((resolve, reject) => {
        s.once("connect", () => reject(new Error("connected to /admin")));
        s.once("connect_error", resolve);
      });
      assert.equal(err.message, "Invalid namespace");
    } finally {
      s.disconnect();
    }
  },
};
