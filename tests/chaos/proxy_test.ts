import assert from "node:assert/strict";
import { FaultProxy } from "../../bench/chaos/proxy.ts";

/** An echo server on loopback. */
function echo(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  void (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      void conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
    },
  };
}

async function open(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  return {
    send: (text: string) => writer.write(new TextEncoder().encode(text)),
    /** The next bytes as text, or null once the connection is closed. */
    async read(): Promise<string | null> {
      try {
        const { value, done } = await reader.read();
        return done ? null : new TextDecoder().decode(value);
      } catch {
        return null;
      }
    },
    close() {
      try {
        conn.close();
      } catch { /* gone */ }
    },
  };
}

Deno.test("fault proxy: passes bytes both ways, and delays them by at least the delay", async () => {
  const target = echo();
  using proxy = FaultProxy.start({ port: target.port });
  const c = await open(proxy.port);
  await c.send("hello");
  assert.equal(await c.read(), "hello");
  proxy.delay(150);
  const started = performance.now();
  await c.send("later");
  assert.equal(await c.read(), "later");
  // Both directions are delayed: at least twice the delay (a lower bound, never flaky).
  assert.ok(performance.now() - started >= 290, `${performance.now() - started} ms`);
  c.close();
  target.close();
});

Deno.test("fault proxy: a black hole holds bytes until healed, then lets them through in order", async () => {
  const target = echo();
  using proxy = FaultProxy.start({ port: target.port });
  const c = await open(proxy.port);
  proxy.blackhole();
  await c.send("a");
  await c.send("b");
  let got: string | null | undefined;
  const reading = c.read().then((r) => got = r);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got, undefined, "nothing passes while black-holed");
  proxy.heal();
  await reading;
  let text = got!;
  while (text.length < 2) text += await c.read();
  assert.equal(text, "ab");
  c.close();
  target.close();
});

Deno.test("fault proxy: cut closes open connections; a partition closes new ones until healed", async () => {
  const target = echo();
  using proxy = FaultProxy.start({ port: target.port });
  const c = await open(proxy.port);
  await c.send("x");
  assert.equal(await c.read(), "x");
  proxy.cut();
  assert.equal(await c.read(), null, "cut");
  proxy.partition();
  const refused = await open(proxy.port);
  assert.equal(await refused.read(), null, "refused while partitioned");
  proxy.heal();
  const again = await open(proxy.port);
  await again.send("y");
  assert.equal(await again.read(), "y");
  for (const x of [c, refused, again]) x.close();
  target.close();
});

Deno.test("fault proxy: a target that is down closes the client's connection", async () => {
  const target = echo();
  target.close();
  using proxy = FaultProxy.start({ port: target.port });
  const c = await open(proxy.port);
  assert.equal(await c.read(), null);
  c.close();
});
