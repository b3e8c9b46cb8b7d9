// Socket.IO connection-state recovery (sio.connection-state-recovery), with the official
// client's own mechanism: the pid of the CONNECT answer and the offset that ends each `msg`
// event, sent back in the next CONNECT. Each scenario needs a node with particular
// settings (tests/e2e/socketio_recovery_test.cpp starts them), so none runs under `all`.
// A transport loss is simulated with `socket.io.engine.close()`; the client then
// reconnects by itself. `socket._pid` (the client's copy of the pid) is read to check the
// server's answers.
import assert from "node:assert/strict";
import { apiPost } from "./auth_scenarios.mjs";

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Options of a client that reconnects by itself after `ms`.
function reconnecting(ms, transports) {
  return {
    reconnection: true,
    reconnectionDelay: ms,
    reconnectionDelayMax: ms,
    randomizationFactor: 0,
    ...(transports ? { transports } : {}),
  };
}

// Records every `msg` with its offset argument, in arrival order.
function record(socket) {
  const got = [];
  socket.on("msg", (m, ...rest) => got.push({ seq: m.seq, text: m.text, rest }));
  return got;
}

// Resolves at the next `connect` of a socket (a reconnection).
function nextConnect(ctx, socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reconnection")), ctx.opts.timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function until(ctx, what, check) {
  const end = Date.now() + ctx.opts.timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

// Every seq of `sent` exactly once, in order, and nothing else.
function assertExactlyOnce(got, sent) {
  assert.deepEqual(got.map((g) => g.seq), sent.map((s) => s.seq));
}

// Alice (reconnecting by herself after `ms`, with `transports`) and bob in one room; what
// alice receives is recorded.
async function pairInRoom(ctx, name, ms, transports) {
  const room = ctx.room(`rec-${name}`);
  const alice = await ctx.connect(ctx.user(`alice-${name}`), reconnecting(ms, transports));
  const bob = await ctx.connect(ctx.user(`bob-${name}`));
  await ctx.request(alice, "join", { room });
  await ctx.request(bob, "join", { room });
  return { room, alice, bob, got: record(alice) };
}

async function apiLogin(ctx, name) {
  const username = ctx.user(name);
  const password = `${name}'s long password`;
  assert.equal((await apiPost(ctx, "register", { username, password })).status, 201);
  const login = await apiPost(ctx, "login", { username, password });
  assert.equal(login.status, 200);
  return { username, token: login.body.token };
}

async function dropAndStay(alice) {
  alice.io.reconnection(false);
  const disconnected = new Promise((resolve) => alice.once("disconnect", resolve));
  alice.io.engine.close();
  await disconnected;
}

// Alice reconnects (with her pid and offset, as socket.io-client does by itself).
async function reconnectNow(ctx, alice) {
  alice.io.reconnection(true);
  const back = nextConnect(ctx, alice);
  alice.connect();
  await back;
}

// Alice reconnects, recovers her socket and has every message of `sent` exactly once.
async function comeBack(ctx, alice, got, sent) {
  await reconnectNow(ctx, alice);
  assert.equal(alice.recovered, true);
  await until(ctx, "the missed messages", () => got.length >= sent.length);
  await delay(100); // a duplicate would arrive now
  assertExactlyOnce(got, sent);
}

async function recoverOn(ctx, transports, name, upgraded = false) {
  const { room, alice, bob, got } = await pairInRoom(ctx, name, 300, transports);
  if (upgraded)
    await until(ctx, "the upgrade", () => alice.io.engine.transport.name === "websocket");
  assert.equal(typeof alice._pid, "string", "the CONNECT answer carries a pid");
  assert.equal(alice.recovered, false);
  const firstPid = alice._pid;
  const firstId = alice.id;
  const sent = [];
  const send = (text) => ctx.request(bob, "send", { room, text, cid: ctx.cid() });
  for (let i = 1; i <= 3; i++) sent.push(await send(`before${i}`));
  await until(ctx, "the first messages", () => got.length === 3);
  for (const g of got) assert.deepEqual(g.rest, [`${room}/${g.seq}`], "the offset is the last argument");

  // Messages sent just before the drop.
  const disconnected = new Promise((resolve) => alice.once("disconnect", resolve));
  const socket = alice.io.engine.transport.ws && alice.io.engine.transport.ws._socket;
  if (alice.io.engine.transport.name === "websocket" && socket) {
    // On a WebSocket: alice stops reading, the node sends the burst (bob has every ack, so
    // the node has handed each frame to alice's WebSocket), then her transport closes: the
    // burst was sent and never received, and only the replay can bring it.
    socket.pause();
    for (let i = 1; i <= 5; i++) sent.push(await send(`burst${i}`));
    alice.io.engine.close();
  } else {
    // Polling: the transport closes right after the first of them arrives, so the others
    // are on their way or queued on the node when it goes. (The close waits for the end
    // of the current task: socket.io-client hands decoded packets to the socket on the
    // next tick, and packets decoded before a close but handed over after it are emitted
    // only after the next CONNECT, whose offset does not count them: with any server they
    // would then arrive twice.)
    let dropped = false;
    alice.on("msg", (m) => {
      if (!dropped && m.text === "burst1") {
        dropped = true;
        setTimeout(() => alice.io.engine.close(), 0);
      }
    });
    const burst = [];
    for (let i = 1; i <= 5; i++) burst.push(send(`burst${i}`));
    sent.push(...(await Promise.all(burst)));
  }
  await disconnected;
  const beforeDrop = got.length;
  if (socket) assert.equal(beforeDrop, 3, "no burst message was read before the drop");
  const reconnected = nextConnect(ctx, alice);
  // While alice is away (she reconnects by herself after 300 ms).
  for (let i = 1; i <= 4; i++) sent.push(await send(`away${i}`));
  await reconnected;
  assert.equal(alice.recovered, true, "socket.recovered");
  assert.equal(alice._pid, firstPid, "the same pid");
  assert.equal(alice.id, firstId, "the same sid");
  // Live again, without a new join: one more message from bob, and one of alice's own.
  sent.push(await send("after"));
  await until(ctx, "every message", () => got.length >= sent.length);
  await delay(100); // a duplicate would arrive now
  assertExactlyOnce(got, sent);
  console.log(`  ${name}: ${beforeDrop - 3} of 5 burst messages before the drop, ` +
              `${got.length - beforeDrop} replayed or live after it`);
  const own = await ctx.request(alice, "send", { room, text: "back", cid: ctx.cid() });
  assert.equal(own.op, "ack");
  assert.equal(own.seq, sent[sent.length - 1].seq + 1);
}

export const recoveryScenarios = {
  // Accounts (a node with security.token-key): mallory's token with alice's pid and offset
  // gets a socket of her own; alice's token gets alice's back with what she missed.
  async "recovery-token"(ctx) {
    const a = await apiLogin(ctx, "alice-tok");
    const m = await apiLogin(ctx, "mallory-tok");
    const room = ctx.room("rec-token");
    const alice = await ctx.connect(a.username, { ...reconnecting(300, ["websocket"]), auth: { token: a.token } });
    await ctx.request(alice, "join", { room });
    const got = record(alice);
    const sent = [await ctx.request(alice, "send", { room, text: "mine", cid: ctx.cid() })];
    await until(ctx, "her own message", () => got.length === 1);
    const pid = alice._pid;
    const offset = alice._lastOffset;
    await dropAndStay(alice);
    const thief = await ctx.connect(m.username, { auth: { token: m.token, pid, offset } });
    assert.equal(thief.hello.user, m.username, "the token decides who connects");
    assert.notEqual(thief._pid, pid);
    const notMember = await ctx.request(thief, "send", { room, text: "in?", cid: ctx.cid() });
    assert.equal(notMember.code, "not_member");
    await ctx.request(thief, "join", { room });
    sent.push(await ctx.request(thief, "send", { room, text: "while away", cid: ctx.cid() }));
    await comeBack(ctx, alice, got, sent);
  },

  async "recovery-websocket"(ctx) {
    await recoverOn(ctx, ["websocket"], "ws");
  },

  async "recovery-polling"(ctx) {
    await recoverOn(ctx, ["polling"], "poll");
  },

  // The default transports (polling, then the upgrade): the drop comes after the upgrade.
  async "recovery-upgraded"(ctx) {
    await recoverOn(ctx, undefined, "up", true);
  },

  // An unknown pid (and offset): a new connection, new pid, not recovered; `since` works.
  async "recovery-unknown"(ctx) {
    const room = ctx.room("rec-unknown");
    const seeder = await ctx.connect(ctx.user("seeder"));
    await ctx.request(seeder, "join", { room });
    const first = await ctx.request(seeder, "send", { room, text: "one", cid: ctx.cid() });
    await ctx.request(seeder, "send", { room, text: "two", cid: ctx.cid() });
    const s = await ctx.connect(ctx.user("stranger"), {
      auth: { user: ctx.user("stranger"), pid: "not-a-known-pid", offset: `${room}/1` },
    });
    assert.equal(s.recovered, false);
    assert.equal(typeof s._pid, "string");
    assert.notEqual(s._pid, "not-a-known-pid");
    const replay = ctx.collect(s, "msg", 1);
    await ctx.request(s, "join", { room, since: first.seq });
    assert.deepEqual((await replay).map((m) => m.seq), [first.seq + 1]);
  },

  // The node keeps the state 300 ms (sio.max-disconnection-duration); alice comes back
  // only once the room has seen her leave: not recovered, a new pid, `since` fills the gap.
  async "recovery-expired"(ctx) {
    const { room, alice, bob, got } = await pairInRoom(ctx, "exp", 300, ["websocket"]);
    const first = await ctx.request(bob, "send", { room, text: "seen", cid: ctx.cid() });
    await until(ctx, "the first message", () => got.length === 1);
    const oldPid = alice._pid;
    // The room sees alice leave when her state expires.
    const left = ctx.waitFor(bob, "member", (m) => m.user === ctx.user("alice-exp") && !m.joined);
    await dropAndStay(alice);
    const missed = await ctx.request(bob, "send", { room, text: "missed", cid: ctx.cid() });
    await left;
    await reconnectNow(ctx, alice);
    assert.equal(alice.recovered, false);
    assert.notEqual(alice._pid, oldPid);
    await delay(100);
    assert.equal(got.length, 1, "nothing arrives without a join");
    await ctx.request(alice, "join", { room, since: first.seq });
    await until(ctx, "the missed message", () => got.length === 2);
    assert.equal(got[1].seq, missed.seq);
  },

  // sio.recovery-bytes is small: the messages sent while alice is away outgrow it, her
  // state is released (the room sees her leave) and she comes back as a new socket.
  async "recovery-overflow"(ctx) {
    const { room, alice, bob, got } = await pairInRoom(ctx, "ovf", 300, ["websocket"]);
    await ctx.request(bob, "send", { room, text: "seen", cid: ctx.cid() });
    await until(ctx, "the first message", () => got.length === 1);
    await dropAndStay(alice);
    const left = ctx.waitFor(bob, "member", (m) => m.user === ctx.user("alice-ovf") && !m.joined);
    for (let i = 0; i < 12; i++)
      await ctx.request(bob, "send", { room, text: "x".repeat(200), cid: ctx.cid() });
    await left;
    await reconnectNow(ctx, alice);
    assert.equal(alice.recovered, false);
    await delay(100);
    assert.equal(got.length, 1);
  },

  // Recovery off (the default): no pid in the CONNECT answer, no offset on events.
  async "recovery-off"(ctx) {
    const room = ctx.room("rec-off");
    const a = await ctx.connect(ctx.user("plain"));
    assert.equal(a._pid, undefined, "no pid");
    await ctx.request(a, "join", { room });
    const args = new Promise((resolve) => a.once("msg", (...xs) => resolve(xs)));
    await ctx.request(a, "send", { room, text: "hi", cid: ctx.cid() });
    const xs = await args;
    assert.equal(xs.length, 1, "a msg event has one argument");
    assert.equal(xs[0].text, "hi");
    // A pid sent anyway is ignored: a normal connection.
    const b = await ctx.connect(ctx.user("plain2"), {
      auth: { user: ctx.user("plain2"), pid: "x", offset: "y" },
    });
    assert.equal(b._pid, undefined);
  },

  // Another user presenting alice's pid and offset gets a new socket of its own, never
  // alice's; alice then recovers hers.
  async "recovery-other-user"(ctx) {
    const { room, alice, bob, got } = await pairInRoom(ctx, "own", 300, ["websocket"]);
    const sent = [await ctx.request(bob, "send", { room, text: "one", cid: ctx.cid() })];
    await until(ctx, "the first message", () => got.length === 1);
    const pid = alice._pid;
    const offset = alice._lastOffset;
    assert.equal(offset, `${room}/${sent[0].seq}`);
    await dropAndStay(alice); // until the thief has tried
    sent.push(await ctx.request(bob, "send", { room, text: "private", cid: ctx.cid() }));
    const thief = await ctx.connect(ctx.user("mallory"), {
      auth: { user: ctx.user("mallory"), pid, offset },
    });
    assert.notEqual(thief._pid, pid, "a new pid");
    assert.notEqual(thief.id, alice.id);
    const stolen = [];
    thief.on("msg", (m) => stolen.push(m));
    const notMember = await ctx.request(thief, "send", { room, text: "in?", cid: ctx.cid() });
    assert.equal(notMember.code, "not_member", "the thief is in none of alice's rooms");
    await delay(100);
    assert.equal(stolen.length, 0, "none of alice's messages");
    // Alice's own state waited: she recovers it with everything.
    await comeBack(ctx, alice, got, sent);
  },
};
