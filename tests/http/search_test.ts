import assert from "node:assert/strict";
import {
  assertProblem,
  Client,
  registerUser,
  startServer,
  tempDir,
  type TestServer,
  type TestUser,
} from "../support/server.ts";
import { eventually } from "../support/wait.ts";

async function send(u: TestUser, conversationId: string, text: string, extra = {}) {
  const res = await u.client.post(`/v1/conversations/${conversationId}/messages`, {
    clientMsgId: crypto.randomUUID(),
    text,
    ...extra,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

function search(u: TestUser, params: Record<string, string>) {
  return u.client.get(`/v1/search/messages?${new URLSearchParams(params)}`);
}

/** The ids found for `q` (asserting 200). */
async function found(u: TestUser, q: string, extra: Record<string, string> = {}) {
  const res = await search(u, { q, ...extra });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results.map((r: { message: { id: string } }) => r.message.id);
}

/** Waits (up to 2 s: the contract's bound) until `q` finds exactly `ids`. */
async function finds(u: TestUser, q: string, ids: string[], extra: Record<string, string> = {}) {
  await eventually(
    `"${q}" finds ${ids.length}`,
    () => found(u, q, extra),
    (got) => JSON.stringify([...got].sort()) === JSON.stringify([...ids].sort()),
    { timeoutMs: 2000, everyMs: 50 },
  );
}

async function setup(s: TestServer) {
  const [a, b, outsider] = [
    await registerUser(s.url),
    await registerUser(s.url),
    await registerUser(s.url),
  ];
  const g = await a.client.post("/v1/conversations", {
    type: "group",
    name: "Search",
    memberIds: [b.id],
  });
  return { a, b, outsider, g: g.body.id as string };
}

Deno.test("search: a word is found within 2 s; an edit swaps old words for new; deletes vanish", async () => {
  await using s = await startServer();
  const { a, b, g } = await setup(s);
  const m = await send(a, g, "The quarterly budget is ready");
  await finds(b, "budget", [m.id]);
  const res = await search(b, { q: "budget" });
  assert.equal(res.body.results[0].conversationId, g);
  assert.equal(res.body.results[0].message.text, "The quarterly budget is ready");
  assert.deepEqual(res.body.results[0].highlights, [[14, 20]]);
  const edit = await a.client.patch(`/v1/conversations/${g}/messages/${m.id}`, {
    text: "The yearly forecast is ready",
  });
  assert.equal(edit.status, 200);
  await finds(b, "budget", []);
  await finds(b, "forecast", [m.id]);
  const other = await send(b, g, "forecast for Tuesday");
  await finds(a, "forecast", [m.id, other.id]);
  const del = await a.client.delete(`/v1/conversations/${g}/messages/${m.id}?for=everyone`);
  assert.equal(del.status, 204);
  await finds(a, "forecast", [other.id]);
  // Deleted for me: hidden from me only.
  assert.equal(
    (await a.client.delete(`/v1/conversations/${g}/messages/${other.id}?for=me`)).status,
    204,
  );
  assert.deepEqual(await found(a, "forecast"), []);
  assert.deepEqual(await found(b, "forecast"), [other.id]);
});

Deno.test("search: only members find; a former member finds nothing more of that conversation", async () => {
  await using s = await startServer();
  const { a, b, outsider, g } = await setup(s);
  const m = await send(a, g, "pineapple pizza debate");
  await finds(b, "pineapple", [m.id]);
  assert.deepEqual(await found(outsider, "pineapple"), []);
  assertProblem(await search(outsider, { q: "pineapple", conversationId: g }), 404, "not_found");
  assert.equal((await b.client.delete(`/v1/conversations/${g}/members/${b.id}`)).status, 204);
  assert.deepEqual(await found(b, "pineapple"), []);
});

Deno.test("search: case, accents and width; prefixes of the last word; phrases; CJK", async () => {
  await using s = await startServer();
  const { a, b, g } = await setup(s);
  const cafe = await send(a, g, "Meet at the cafe at noon");
  const upper = await send(a, g, "THE CAFÉ IS CLOSED");
  const phrase = await send(a, g, "the big cat sat on the mat");
  const swapped = await send(a, g, "the cat was big");
  const cjk = await send(a, g, "明日は東京都に行きます");
  // A conversation is indexed in order: once its last message is found, all are.
  await finds(b, "東京", [cjk.id]);
  assert.deepEqual((await found(b, "Café")).sort(), [cafe.id, upper.id].sort());
  assert.deepEqual((await found(b, "ｃａｆｅ")).sort(), [cafe.id, upper.id].sort());
  assert.deepEqual(await found(b, "clos"), [upper.id], "a prefix of the last word");
  assert.deepEqual(await found(b, "closed noo"), [], "all words must match");
  assert.deepEqual(await found(b, "noon mee"), [cafe.id]);
  assert.deepEqual(await found(b, "c"), [], "a one-letter last word is a whole word");
  assert.deepEqual(await found(b, '"big cat"'), [phrase.id]);
  assert.deepEqual((await found(b, "big cat ")).sort(), [phrase.id, swapped.id].sort());
  assert.deepEqual(await found(b, "京都"), [cjk.id]);
  assert.deepEqual(await found(b, "大阪"), []);
});

Deno.test("search: sender, media, link and date filters; scoped to one conversation; paging", async () => {
  await using s = await startServer();
  const { a, b, g } = await setup(s);
  const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body.id;
  const fromA = await send(a, g, "release notes ready");
  const link = await send(b, g, "release notes at https://example.com/notes");
  const elsewhere = await send(a, dm, "release party tonight");
  await finds(b, "release", [fromA.id, link.id, elsewhere.id]);
  assert.deepEqual(await found(b, "release", { senderId: a.id }), [elsewhere.id, fromA.id]);
  assert.deepEqual(await found(b, "release", { has: "link" }), [link.id]);
  assert.deepEqual(await found(b, "release", { has: "media" }), []);
  assert.deepEqual(await found(b, "release", { conversationId: dm }), [elsewhere.id]);
  assert.deepEqual(
    await found(b, "release", { after: link.createdAt }),
    [elsewhere.id],
  );
  assert.deepEqual(await found(b, "release", { before: link.createdAt }), [fromA.id]);
  const first = await search(b, { q: "release", limit: "2" });
  assert.equal(first.body.results.length, 2);
  assert.ok(first.body.nextCursor);
  const second = await search(b, { q: "release", limit: "2", cursor: first.body.nextCursor });
  assert.deepEqual(second.body.results.map((r: { message: { id: string } }) => r.message.id), [
    fromA.id,
  ]);
  assert.equal(second.body.nextCursor, null);
  const ranked = await search(b, { q: "release notes", sort: "relevance" });
  assert.equal(ranked.status, 200);
  assert.equal(ranked.body.results.length, 2);
});

Deno.test("search: bad queries are 400s or empty results, never 5xx", async () => {
  await using s = await startServer();
  const { b } = await setup(s);
  assertProblem(await search(b, { q: "" }), 400, "validation_failed");
  assertProblem(await search(b, { q: "   !!! ***" }), 400, "validation_failed");
  assertProblem(await search(b, { q: "word ".repeat(1000) }), 400, "validation_failed");
  assertProblem(await search(b, { q: "x", limit: "0" }), 400, "validation_failed");
  assertProblem(await search(b, { q: "x", has: "everything" }), 400, "validation_failed");
  assertProblem(await search(b, { q: "x", before: "yesterday" }), 400, "validation_failed");
  for (const q of ["a AND b OR c", "(x) -y +z", "*", 'say "unclosed', "%_\\'", "x:y:z"]) {
    const res = await search(b, { q });
    assert.ok(res.status === 200 || res.status === 400, `${q}: ${res.status}`);
  }
  assert.equal((await search(b, { q: "x", cursor: "garbage" })).status, 200);
});

Deno.test("search: the index holds none of the corpus's words in the clear", async () => {
  await using dir = await tempDir("parley-search-");
  await using s = await startServer({ DATA_DIR: dir.path });
  const { a, b, g } = await setup(s);
  const corpus = ["xylophonic", "quixotically", "zymurgical", "bewilderment"];
  const m = await send(a, g, corpus.join(" "));
  for (const w of corpus) await finds(b, w, [m.id]);
  await s.close();
  for await (const f of Deno.readDir(dir.path)) {
    if (!f.isFile) continue;
    const bytes = await Deno.readFile(`${dir.path}/${f.name}`);
    const text = new TextDecoder("latin1").decode(bytes);
    for (const w of corpus) assert.ok(!text.includes(w), `${w} in ${f.name}`);
    // Nor the prefixes the index keeps for unfinished words.
    for (const w of corpus) assert.ok(!text.includes(w.slice(0, 4) + "\u0000"), f.name);
  }
});

Deno.test("search: disappearing messages leave results at expiry; an erased user's messages leave too", async () => {
  await using s = await startServer();
  const { a, b, g } = await setup(s);
  const keep = await send(b, g, "ephemeral notes kept");
  const erased = await send(a, g, "ephemeral notes of a");
  assert.equal(
    (await a.client.patch(`/v1/conversations/${g}`, { settings: { messageTtlSeconds: 5 } }))
      .status,
    200,
  );
  const fleeting = await send(b, g, "ephemeral notes that expire");
  assert.ok(fleeting.expiresAt);
  await finds(b, "ephemeral", [keep.id, erased.id, fleeting.id]);
  // Expiry (within 5 s of expiresAt) takes it out.
  await eventually("expired", () => found(b, "ephemeral"), (ids) => !ids.includes(fleeting.id), {
    timeoutMs: 15_000,
    everyMs: 200,
  });
  const gone = await a.client.request("DELETE", "/v1/users/me", { password: a.password });
  assert.equal(gone.status, 204, JSON.stringify(gone.body));
  await finds(b, "ephemeral", [keep.id]);
});

Deno.test("search: SEARCH_ENABLED=false keeps no index and answers 503; on again, it catches up", async () => {
  await using dir = await tempDir("parley-search-off-");
  let token: string;
  let message: { id: string };
  let g: string;
  {
    await using s = await startServer({ DATA_DIR: dir.path, SEARCH_ENABLED: "false" });
    const setUp = await setup(s);
    g = setUp.g;
    token = setUp.a.accessToken;
    message = await send(setUp.a, g, "unindexed marmalade");
    assertProblem(await search(setUp.a, { q: "marmalade" }), 503, "unavailable");
    assert.deepEqual(await s.parley.store.search.progress([g]), new Map(), "nothing written");
  }
  await using s = await startServer({ DATA_DIR: dir.path });
  const client = new Client(s.url, token);
  await eventually(
    "the index caught up",
    () => client.get(`/v1/search/messages?q=marmalade`),
    (r) => r.status === 200 && r.body.results.length === 1,
    { timeoutMs: 10_000, everyMs: 100 },
  ).then((r) => assert.equal(r.body.results[0].message.id, message.id));
});

Deno.test("search: a page cut short by candidates that do not hold up carries a cursor to the rest", async () => {
  await using s = await startServer();
  const { a, b, g } = await setup(s);
  const target = await send(a, g, "the quokkabilities report");
  // 320 newer messages share the indexed prefix ("quokk") but not the typed one ("quokka").
  for (let i = 0; i < 320; i++) await send(b, g, `quokkz ${i}`);
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  await eventually("the filler is indexed", () => found(a, "quokkz 319"), (r) => r.length === 1, {
    timeoutMs: 5000,
  });
  do {
    const res = await search(a, { q: "quokka", ...(cursor ? { cursor } : {}) });
    assert.equal(res.status, 200);
    ids.push(...res.body.results.map((r: { message: { id: string } }) => r.message.id));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  assert.deepEqual(ids, [target.id]);
  assert.ok(pages > 1, "the first page stopped short with a cursor");
});
