// Socket.IO with accounts (a node with security.token-key and allow-anonymous=false): a
// token from the HTTP account API in the handshake auth connects as its user, the same
// check and admission as /ws?token=. Run only when named (see explicitOnly in the driver).
import assert from "node:assert/strict";

// POST /api/<op> with a JSON body: {status, body}.
export async function apiPost(ctx, op, body) {
  const r = await fetch(`${ctx.opts.url}/api/${op}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(ctx.opts.timeoutMs),
  });
  return { status: r.status, body: await r.json() };
}

export const authScenarios = {
  async "token-auth"(ctx) {
    const username = ctx.user("tina");
    const password = "tina's long password";
    const registered = await apiPost(ctx, "register", { username, password });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const login = await apiPost(ctx, "login", { username, password });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.ok(login.body.token);

    const s = await ctx.connect(username, { auth: { token: login.body.token } });
    assert.equal(s.hello.user, username);
    const room = ctx.room("tokens");
    const joined = await ctx.request(s, "join", { room });
    assert.equal(joined.op, "joined");
    const ack = await ctx.request(s, "send", { room, text: "signed in", cid: ctx.cid() });
    assert.equal(ack.op, "ack");

    const bad = await ctx.refused({ auth: { token: login.body.token.slice(0, -2) + "xx" } });
    assert.match(bad.message, /token/);
    const garbage = await ctx.refused({ auth: { token: "not-a-token" } });
    assert.match(garbage.message, /token/);
    const anonymous = await ctx.refused({ auth: { user: ctx.user("nobody") } });
    assert.match(anonymous.message, /authentication required/);
  },
};
