// Drives a chat node's /socket.io/ endpoint with the official socket.io-client, the way an
// unchanged Socket.IO app would. Each scenario throws on failure; the driver prints one
// line per scenario ("ok NAME" or "FAIL NAME: why") and exits non-zero if any failed.
//
//   node tests/sio/driver.mjs --url http://127.0.0.1:PORT [--scenario a,b|all]
//                             [--timeout-ms 5000] [--token T] [--run ID]
//
// `all` runs every scenario but the ones that need a particular node (explicitOnly and the
// connection-state recovery scenarios).
// Room and user names end in a per-run suffix: `--run ID` fixes it, so that scenarios of
// two driver runs (before and after a node restart) meet in the same rooms.
//
// Identity: {user} in the handshake auth (security.allow-anonymous=true), or --token.
import { io } from "socket.io-client";
import { scenarios as clientScenarios } from "./scenarios.mjs";
import { explicitOnly, wireScenarios } from "./wire_scenarios.mjs";
import { authScenarios } from "./auth_scenarios.mjs";
import { recoveryScenarios } from "./recovery_scenarios.mjs";

const scenarios = { ...clientScenarios, ...wireScenarios, ...authScenarios, ...recoveryScenarios };

function parseArgs(argv) {
  const opts = { url: "", scenario: "all", timeoutMs: 5000, token: "", run: "" };
  for (let i = 2; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    if (key === "--url") opts.url = value;
    else if (key === "--scenario") opts.scenario = value;
    else if (key === "--timeout-ms") opts.timeoutMs = Number(value);
    else if (key === "--token") opts.token = value;
    else if (key === "--run") opts.run = value;
    else throw new Error(`unknown option ${key}`);
  }
  if (!opts.url) throw new Error("--url is required");
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0)
    throw new Error("--timeout-ms must be a positive integer");
  return opts;
}

// What scenarios use: clients that are closed after each scenario, and bounded waits.
function makeContext(opts) {
  const clients = [];
  const closers = [];
  const run = opts.run || Math.random().toString(36).slice(2, 8);
  let counter = 0;
  const ctx = {
    opts,
    room: (name) => `${name}-${run}`,
    user: (name) => `${name}-${run}`,
    // A connected client; `options` go to io() (transports, auth, ...).
    async connect(user, options = {}) {
      const socket = io(opts.url, {
        reconnection: false,
        timeout: opts.timeoutMs,
        auth: opts.token ? { token: opts.token } : { user },
        ...options,
      });
      clients.push(socket);
      const hello = ctx.waitFor(socket, "hello");
      hello.catch(() => {}); // awaited below once connected
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      socket.hello = await hello;
      return socket;
    },
    // A socket that is expected to be refused: resolves with the connect_error.
    async refused(options) {
      const socket = io(opts.url, { reconnection: false, timeout: opts.timeoutMs, ...options });
      clients.push(socket);
      return await new Promise((resolve, reject) => {
        socket.once("connect", () => reject(new Error("connected, expected a refusal")));
        socket.once("connect_error", resolve);
      });
    },
    // emit with an ack callback, bounded by the timeout.
    request(socket, event, fields) {
      return socket.timeout(opts.timeoutMs).emitWithAck(event, fields);
    },
    waitFor(socket, event, predicate = () => true) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.off(event, handler);
          reject(new Error(`no '${event}' within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
        const handler = (value) => {
          if (!predicate(value)) return;
          clearTimeout(timer);
          socket.off(event, handler);
          resolve(value);
        };
        socket.on(event, handler);
      });
    },
    // Collects `count` events (in arrival order).
    collect(socket, event, count) {
      const got = [];
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.off(event, handler);
          reject(new Error(`${got.length}/${count} '${event}' within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
        const handler = (value) => {
          got.push(value);
          if (got.length < count) return;
          clearTimeout(timer);
          socket.off(event, handler);
          resolve(got);
        };
        socket.on(event, handler);
      });
    },
    cid: () => `c${++counter}-${run}`,
    // Registers the end of something a scenario opened (raw sockets, native clients).
    onClose(fn) {
      closers.push(fn);
    },
    closeAll() {
      for (const s of clients.splice(0)) s.disconnect();
      for (const fn of closers.splice(0)) fn();
    },
  };
  return ctx;
}

async function main() {
  const opts = parseArgs(process.argv);
  const names =
    opts.scenario === "all"
      ? Object.keys(scenarios).filter((n) => !explicitOnly.has(n) && !(n in recoveryScenarios))
      : opts.scenario.split(",");
  let failed = 0;
  for (const name of names) {
    const scenario = scenarios[name];
    if (!scenario) {
      console.log(`FAIL ${name}: no such scenario (have: ${Object.keys(scenarios).join(", ")})`);
      failed++;
      continue;
    }
    const ctx = makeContext(opts);
    try {
      await scenario(ctx);
      console.log(`ok ${name}`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
      failed++;
    } finally {
      ctx.closeAll();
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL driver: ${e.message}`);
  process.exit(2);
});
