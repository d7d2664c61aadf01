import assert from "node:assert/strict";
import { type ChaosInput, check, clean, type ClientRecord } from "../../bench/chaos/check.ts";

/** Conversation c with members a and b, three stored messages (seqs 1–3) sent by a. */
function healthy(): {
  input: ChaosInput;
  a: ClientRecord;
  b: ClientRecord;
  outsider: ClientRecord;
} {
  const stored = [1, 2, 3].map((seq) => ({
    seq,
    event: "message.created",
    messageId: `m${seq}`,
    clientMsgId: `a-${seq}`,
  }));
  const record = (userId: string): ClientRecord => ({
    userId,
    acks: [],
    connections: [{ resumeFrom: {}, events: new Map([["c", [1, 2, 3]]]) }],
    paged: new Map(),
    startSeq: new Map([["c", 0]]),
    refusals: [],
    givenUp: 0,
  });
  const a = record("a");
  a.acks = stored.map((e) => ({
    conversationId: "c",
    clientMsgId: e.clientMsgId,
    messageId: e.messageId,
    seq: e.seq,
  }));
  const b = record("b");
  const outsider = { ...record("x"), connections: [], startSeq: new Map() };
  return {
    input: {
      members: new Map([["c", new Set(["a", "b"])]]),
      stored: new Map([["c", stored]]),
      clients: [a, b, outsider],
    },
    a,
    b,
    outsider,
  };
}

Deno.test("chaos checker: a healthy history is clean", () => {
  const v = check(healthy().input);
  assert.ok(clean(v), JSON.stringify(v));
  assert.equal(v.acknowledged, 3);
  assert.equal(v.storedMessages, 3);
  assert.equal(v.delivered, 6);
});

Deno.test("chaos checker: an acknowledged message missing from the store is lost", () => {
  const { input } = healthy();
  input.stored.set("c", input.stored.get("c")!.filter((e) => e.seq !== 2));
  const v = check(input);
  assert.equal(v.lost, 1);
  assert.match(v.findings.join("\n"), /a-2 acknowledged/);
});

Deno.test("chaos checker: one clientMsgId stored twice, or a seq delivered twice, is a duplicate", () => {
  const { input } = healthy();
  input.stored.get("c")!.push({
    seq: 4,
    event: "message.created",
    messageId: "m4",
    clientMsgId: "a-3",
  });
  assert.equal(check(input).duplicated, 1, "stored twice");
  const again = healthy();
  again.b.connections[0].events.set("c", [1, 2, 2, 3]);
  assert.equal(check(again.input).duplicated, 1, "delivered twice");
  const seam = healthy();
  seam.b.connections.push({ resumeFrom: { c: 2 }, events: new Map([["c", [2, 3]]]) });
  assert.equal(check(seam.input).duplicated, 1, "replayed at or below the resume point");
});

Deno.test("chaos checker: out-of-order delivery or storage is reordered", () => {
  const { input, b } = healthy();
  b.connections[0].events.set("c", [1, 3, 2]);
  assert.equal(check(input).reordered, 1);
  const stored = healthy();
  stored.a.acks.reverse();
  assert.ok(check(stored.input).reordered >= 1, "a sender's messages stored out of its order");
});

Deno.test("chaos checker: a stored event a member never received is a gap; paging fills it", () => {
  const { input, b } = healthy();
  b.connections[0].events.set("c", [1, 3]);
  assert.equal(check(input).gaps, 1);
  b.paged.set("c", new Set([2]));
  assert.equal(check(input).gaps, 0);
});

Deno.test("chaos checker: an event delivered to a non-member is a leak", () => {
  const { input, outsider } = healthy();
  outsider.connections.push({ resumeFrom: {}, events: new Map([["c", [3]]]) });
  const v = check(input);
  assert.equal(v.leaked, 1);
  assert.ok(!clean(v));
});

Deno.test("chaos checker: refused and abandoned sends count", () => {
  const { input, a } = healthy();
  a.refusals.push({ clientMsgId: "a-9", code: "forbidden", detail: "no" });
  a.givenUp = 2;
  const v = check(input);
  assert.equal(v.refused, 1);
  assert.equal(v.unacknowledged, 2);
  assert.ok(!clean(v));
});
