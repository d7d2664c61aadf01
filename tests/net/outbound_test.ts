import assert from "node:assert/strict";
import { isPublic, OutboundClient, OutboundRefused } from "../../src/net/outbound.ts";
import { createLogger } from "../../src/observability/logger.ts";

function client(options: Partial<ConstructorParameters<typeof OutboundClient>[0]> = {}) {
  const logged: string[] = [];
  const refused: string[] = [];
  const c = new OutboundClient({
    allowPrivate: false,
    httpsOnly: false,
    logger: createLogger({ level: "info", write: (line) => logged.push(line) }),
    onRefused: (reason) => refused.push(reason),
    ...options,
  });
  return { c, logged, refused };
}

async function refusedWith(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof OutboundRefused, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

/** A transport that must never be reached. */
const never: typeof fetch = (input) => {
  throw new Error(`fetched ${input}`);
};

Deno.test("outbound: loopback, private, CGNAT, link-local (metadata), unique-local and mapped addresses are refused", async () => {
  const { c, refused, logged } = client({ fetch: never });
  for (
    const url of [
      "http://127.0.0.1/",
      "http://10.1.2.3/",
      "http://172.16.0.1/",
      "http://192.168.1.1/",
      "http://100.64.0.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://0.0.0.0/",
      "http://[::1]/",
      "http://[fd00:ec2::254]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://224.0.0.1/",
      "http://localhost:8080/",
      "http://api.localhost/",
      "http://metadata.google.internal/computeMetadata/v1/",
    ]
  ) {
    await refusedWith(c.fetch(url), "private_address");
  }
  assert.equal(refused.length, 15);
  // Logged with the origin only: a push endpoint's path is a secret.
  assert.ok(logged.every((l) => !l.includes("meta-data") && !l.includes("computeMetadata")));
  assert.match(logged[0], /outbound request refused/);
});

Deno.test("outbound: schemes other than http(s), credentials, and http in production are refused", async () => {
  const { c } = client({ fetch: never });
  await refusedWith(c.fetch("ftp://example.com/x"), "scheme");
  await refusedWith(c.fetch("file:///etc/passwd"), "scheme");
  await refusedWith(c.fetch("not a url"), "bad_url");
  await refusedWith(c.fetch("https://user:pw@example.com/"), "credentials");
  const prod = client({ fetch: never, httpsOnly: true }).c;
  await refusedWith(prod.fetch("http://example.com/"), "https_required");
});

Deno.test("outbound: a name whose DNS answer points inside is refused, as is one that does not resolve", async () => {
  const answers: Record<string, string[]> = {
    "evil.example": ["10.0.0.5"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
    "v6.example": ["::ffff:169.254.169.254"],
    "empty.example": [],
  };
  const { c } = client({
    fetch: never,
    resolve: (host) => {
      if (host in answers) return Promise.resolve(answers[host]);
      return Promise.reject(new Error("NXDOMAIN"));
    },
  });
  await refusedWith(c.fetch("https://evil.example/"), "private_address");
  await refusedWith(c.fetch("https://mixed.example/"), "private_address");
  await refusedWith(c.fetch("https://v6.example/"), "private_address");
  await refusedWith(c.fetch("https://empty.example/"), "dns");
  await refusedWith(c.fetch("https://nowhere.example/"), "dns");
});

Deno.test("outbound: a redirect to an inside address is refused before it is fetched", async () => {
  const calls: string[] = [];
  const { c } = client({
    resolve: () => Promise.resolve(["93.184.216.34"]),
    fetch: (input) => {
      calls.push(String(input));
      return Promise.resolve(
        new Response(null, { status: 302, headers: { location: "http://169.254.169.254/secret" } }),
      );
    },
  });
  await refusedWith(c.fetch("https://public.example/start"), "private_address");
  assert.deepEqual(
    calls,
    ["https://public.example/start"],
    "the metadata address was never fetched",
  );
});

Deno.test("outbound: public addresses are public", () => {
  for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111"]) assert.ok(isPublic(a), a);
  for (const a of ["127.0.0.1", "::", "192.0.2.1", "64:ff9b::a00:1", "nonsense"]) {
    assert.ok(!isPublic(a), a);
  }
});

/** A local server (allowed with allowPrivate, as in tests and development). */
function server(handler: (req: Request) => Response | Promise<Response>) {
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return { base: `http://127.0.0.1:${s.addr.port}`, [Symbol.asyncDispose]: () => s.shutdown() };
}

Deno.test("outbound: redirects are followed up to five, each hop checked; a sixth is refused", async () => {
  await using s = server((req) => {
    const n = Number(new URL(req.url).pathname.slice(1));
    if (n > 0) return new Response(null, { status: 302, headers: { location: `/${n - 1}` } });
    return new Response(`arrived with ${req.method}`);
  });
  const { c } = client({ allowPrivate: true });
  const five = await c.fetch(`${s.base}/5`);
  assert.equal(five.status, 200);
  assert.equal(five.text(), "arrived with GET");
  assert.equal(five.url, `${s.base}/0`);
  await refusedWith(c.fetch(`${s.base}/6`), "too_many_redirects");
});

Deno.test("outbound: a POST redirected with 303 continues as a GET; 307 keeps the POST", async () => {
  await using s = server(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/see-other") {
      return new Response(null, { status: 303, headers: { location: "/end" } });
    }
    if (path === "/temporary") {
      return new Response(null, { status: 307, headers: { location: "/end" } });
    }
    return new Response(`${req.method} ${await req.text()}`);
  });
  const { c } = client({ allowPrivate: true });
  assert.equal(
    (await c.fetch(`${s.base}/see-other`, { method: "POST", body: "x" })).text(),
    "GET ",
  );
  assert.equal(
    (await c.fetch(`${s.base}/temporary`, { method: "POST", body: "x" })).text(),
    "POST x",
  );
});

Deno.test("outbound: a body over the cap is refused, declared or streamed", async () => {
  await using s = server((req) => {
    if (new URL(req.url).pathname === "/declared") return new Response("x".repeat(2000));
    let n = 0;
    return new Response(
      new ReadableStream({
        pull(ctl) {
          if (n++ > 100) ctl.close();
          else ctl.enqueue(new Uint8Array(1000));
        },
      }),
    );
  });
  const { c } = client({ allowPrivate: true });
  await refusedWith(c.fetch(`${s.base}/declared`, { maxBytes: 1000 }), "too_large");
  await refusedWith(c.fetch(`${s.base}/streamed`, { maxBytes: 10_000 }), "too_large");
  assert.equal((await c.fetch(`${s.base}/declared`, { maxBytes: 2000 })).body.length, 2000);
});

Deno.test("outbound: a server that does not answer in time is refused at the deadline", async () => {
  const hold = Promise.withResolvers<void>();
  await using s = server(async () => {
    await hold.promise;
    return new Response("late");
  });
  const { c } = client({ allowPrivate: true });
  await refusedWith(c.fetch(`${s.base}/slow`, { timeoutMs: 200 }), "timeout");
  hold.resolve();
});

Deno.test("outbound: a body that trickles past the deadline is refused", async () => {
  await using s = server(() =>
    new Response(
      new ReadableStream({
        async pull(ctl) {
          await new Promise((r) => setTimeout(r, 100));
          ctl.enqueue(new Uint8Array(1));
        },
      }),
    )
  );
  const { c } = client({ allowPrivate: true });
  await refusedWith(c.fetch(`${s.base}/trickle`, { timeoutMs: 350 }), "timeout");
});
