// Fuzzing with fast-check: random socket frames (every type, valid and broken fields) and random
// bodies for every REST operation of /openapi.json. Whatever arrives: no 5xx, no crash, no hang,
// and every socket frame that carries an id gets exactly one ack.
import assert from "node:assert/strict";
import fc from "fast-check";
import { createGroup, registerUser, sendMessage, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const FRAMES = 400;
/** The client frame types (as realtime/protocol.ts lists them; importing it here would load zod
 * before the OpenAPI extension the routes need). */
const FRAME_TYPES = [
  "message.send",
  "message.edit",
  "message.delete",
  "reaction.add",
  "reaction.remove",
  "typing",
  "receipt",
  "presence",
  "ping",
];

serverTest(
  "fuzz: random socket frames each get exactly one ack, never an internal error",
  { env: { WS_FRAMES_PER_SECOND: "10000", WS_FRAMES_BURST: "10000" } },
  async (s) => {
    const [a, b] = [await registerUser(s.url), await registerUser(s.url)];
    const g = await createGroup(a, "Fuzz", [b]);
    const m = await sendMessage(a, g.id, { text: "target" });
    const word = fc.oneof(
      fc.constantFrom(g.id, m.id, "nope", "", "x".repeat(100)),
      fc.string({ maxLength: 20 }),
    );
    const value = fc.oneof(word, fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue());
    const frame = fc.record({
      type: fc.oneof(fc.constantFrom(...FRAME_TYPES, "auth", "bogus"), fc.string()),
      conversationId: fc.option(word, { nil: undefined }),
      messageId: fc.option(word, { nil: undefined }),
      clientMsgId: fc.option(word, { nil: undefined }),
      text: fc.option(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), value), {
        nil: undefined,
      }),
      emoji: fc.option(fc.oneof(fc.constantFrom("👍", "🇫🇷", "ab"), fc.string()), {
        nil: undefined,
      }),
      state: fc.option(fc.constantFrom("start", "stop", "x"), { nil: undefined }),
      seq: fc.option(fc.oneof(fc.integer(), value), { nil: undefined }),
      kind: fc.option(fc.constantFrom("read", "delivered", "x"), { nil: undefined }),
      presence: fc.option(fc.constantFrom("online", "away", "x"), { nil: undefined }),
      extra: fc.option(value, { nil: undefined }),
    }, { requiredKeys: ["type"] });
    const frames = fc.sample(frame, { numRuns: FRAMES, seed: 20261207 });
    const ws = await WsClient.connect(s.url, a.accessToken);
    frames.forEach((f, i) => ws.send({ ...f, id: i % 2 ? `f${i}` : i }));
    for (let i = 0; i < frames.length; i++) {
      const id = i % 2 ? `f${i}` : i;
      const ack = await ws.next((f) => f.type === "ack" && f.id === id, 20_000);
      if (!ack.ok) {
        assert.notEqual(ack.error.code, "internal_error", JSON.stringify(frames[i]));
      }
    }
    const acks = ws.frames.filter((f) => f.type === "ack");
    assert.equal(acks.length, FRAMES, "exactly one ack per frame");
    assert.equal((await ws.request({ type: "ping" })).ok, true, "the socket still serves");
    await ws.close();
  },
);

serverTest(
  "fuzz: random bodies and params for every REST operation never answer 5xx",
  async (s) => {
    const u = await registerUser(s.url);
    const doc = await (await fetch(`${s.url}/openapi.json`)).json();
    const ops: Array<{ method: string; path: string }> = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(item)) {
        if (["get", "post", "put", "patch", "delete"].includes(method)) ops.push({ method, path });
      }
    }
    const body = fc.oneof(fc.jsonValue(), fc.object(), fc.constant(undefined));
    const param = fc.oneof(fc.constantFrom("nope", "0", "-1", "%00", "x".repeat(64)), fc.string());
    const failures: string[] = [];
    for (const op of ops) {
      for (const [b, p] of fc.sample(fc.tuple(body, param), { numRuns: 12, seed: 7 })) {
        const path = op.path.replace(/\{[^}]+\}/g, encodeURIComponent(p) || "x");
        const res = await fetch(`${s.url}${path}`, {
          method: op.method.toUpperCase(),
          headers: {
            authorization: `Bearer ${u.accessToken}`,
            ...(b === undefined ? {} : { "content-type": "application/json" }),
          },
          body: b === undefined || op.method === "get" ? undefined : JSON.stringify(b),
        });
        await res.body?.cancel();
        if (res.status >= 500) {
          failures.push(
            `${op.method} ${path} ${JSON.stringify(b)} → ${res.status}`,
          );
        }
      }
    }
    assert.deepEqual(failures, [], `${ops.length} operations`);
  },
);
