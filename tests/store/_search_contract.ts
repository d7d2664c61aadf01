import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import type { IndexedMessage } from "../../src/store/store.ts";
import { addUser, groupInput, textChange } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

const tok = (word: string) => {
  const out = new Uint8Array(16);
  new TextEncoder().encodeInto(word.padEnd(16, "_").slice(0, 16), out);
  return out;
};

let clock = Date.parse("2026-01-01T00:00:00.000Z");

function indexed(conversationId: string, seq: number, overrides: Partial<IndexedMessage> = {}) {
  clock += 1000;
  return {
    conversationId,
    messageId: newId(clock),
    seq,
    senderId: "u1",
    createdAt: new Date(clock).toISOString(),
    hasMedia: false,
    hasLink: false,
    ...overrides,
  } satisfies IndexedMessage;
}

/** The search index's contract. */
export function searchContract(test: ContractTest): void {
  test("search: candidates hold every token, in the given conversations, newest first", async (store) => {
    const m1 = indexed("c1", 1);
    const m2 = indexed("c1", 2);
    const m3 = indexed("c2", 1);
    const m4 = indexed("c3", 1);
    await store.search.indexMessage(m1, [tok("hello"), tok("world")], 1);
    await store.search.indexMessage(m2, [tok("hello")], 1);
    await store.search.indexMessage(m3, [tok("hello"), tok("world")], 1);
    await store.search.indexMessage(m4, [tok("hello"), tok("world")], 1);
    const q = { tokens: [tok("hello")], conversationIds: ["c1", "c2"], limit: 10 };
    assert.deepEqual((await store.search.candidates(q)).map((m) => m.messageId), [
      m3.messageId,
      m2.messageId,
      m1.messageId,
    ]);
    const both = await store.search.candidates({ ...q, tokens: [tok("world"), tok("hello")] });
    assert.deepEqual(both.map((m) => m.messageId), [m3.messageId, m1.messageId]);
    assert.deepEqual(both[0], m3, "the record as indexed");
    const page = await store.search.candidates({ ...q, limit: 2 });
    const next = await store.search.candidates({
      ...q,
      belowMessageId: page.at(-1)!.messageId,
    });
    assert.deepEqual(next.map((m) => m.messageId), [m1.messageId]);
    assert.deepEqual(await store.search.candidates({ ...q, tokens: [tok("absent")] }), []);
    assert.deepEqual(await store.search.candidates({ ...q, conversationIds: [] }), []);
  });

  test("search: sender, media, link and date filters", async (store) => {
    const a = indexed("c1", 1, { senderId: "ann", hasMedia: true });
    const b = indexed("c1", 2, { senderId: "bob", hasLink: true });
    const c = indexed("c1", 3, { senderId: "ann" });
    for (const m of [a, b, c]) await store.search.indexMessage(m, [tok("x")], 1);
    const q = { tokens: [tok("x")], conversationIds: ["c1"], limit: 10 };
    const ids = async (extra: object) =>
      (await store.search.candidates({ ...q, ...extra })).map((m) => m.messageId);
    assert.deepEqual(await ids({ senderId: "ann" }), [c.messageId, a.messageId]);
    assert.deepEqual(await ids({ hasMedia: true }), [a.messageId]);
    assert.deepEqual(await ids({ hasLink: true }), [b.messageId]);
    assert.deepEqual(await ids({ after: a.createdAt }), [c.messageId, b.messageId]);
    assert.deepEqual(await ids({ before: b.createdAt }), [a.messageId]);
  });

  test("search: re-indexing replaces a message's tokens; removal takes it out", async (store) => {
    const m = indexed("c1", 1);
    await store.search.indexMessage(m, [tok("old"), tok("both")], 1);
    await store.search.indexMessage(m, [tok("new"), tok("both")], 2);
    const find = (t: string) =>
      store.search.candidates({ tokens: [tok(t)], conversationIds: ["c1"], limit: 10 });
    assert.deepEqual(await find("old"), []);
    assert.equal((await find("new")).length, 1);
    assert.equal((await find("both")).length, 1);
    assert.deepEqual(await store.search.staleMessages(2, 10), []);
    assert.deepEqual((await store.search.staleMessages(3, 10)).map((x) => x.messageId), [
      m.messageId,
    ]);
    assert.equal(await store.search.removeMessages([m.messageId, "unknown"]), 1);
    assert.deepEqual(await find("both"), []);
    assert.equal(await store.search.removeMessages([m.messageId]), 0);
  });

  test("search: progress never moves back; conversations ahead of it are behind", async (store) => {
    const owner = await addUser(store);
    const { conversation } = await store.conversations.createConversation(
      groupInput(owner.id, []),
    );
    const id = conversation.id;
    assert.deepEqual(await store.search.progress([id]), new Map());
    const lagging = await store.search.behind(1000);
    assert.ok(
      lagging.some((b) =>
        b.conversationId === id && b.indexedSeq === 0 && b.lastSeq === conversation.lastSeq
      ),
    );
    await store.search.setProgress(id, conversation.lastSeq);
    await store.search.setProgress(id, 0);
    assert.deepEqual(
      await store.search.progress([id, "other"]),
      new Map([[id, conversation.lastSeq]]),
    );
    assert.ok(!(await store.search.behind(1000)).some((b) => b.conversationId === id));
  });
}

/** Retention takes a message's index entries with it (in the same write). */
export function searchRetentionContract(test: ContractTest): void {
  test("search: retention names the messages it removes; removing them empties the index", async (store) => {
    const owner = await addUser(store);
    const { conversation } = await store.conversations.createConversation(
      groupInput(owner.id, []),
    );
    const sent = await store.log.commit(textChange(conversation.id, owner.id));
    assert.equal(sent.status, "committed");
    const m = sent.status === "committed" ? sent.message! : undefined!;
    await store.search.indexMessage(
      {
        conversationId: conversation.id,
        messageId: m.id,
        seq: m.seq,
        senderId: owner.id,
        createdAt: m.createdAt,
        hasMedia: false,
        hasLink: false,
      },
      [tok("kept")],
      1,
    );
    const q = { tokens: [tok("kept")], conversationIds: [conversation.id], limit: 10 };
    assert.equal((await store.search.candidates(q)).length, 1);
    const batch = await store.privacy.sweepRetention(
      conversation.id,
      "2999-01-01T00:00:00.000Z",
      100,
    );
    assert.ok(batch.messageIds.includes(m.id));
    await store.search.removeMessages(batch.messageIds);
    assert.deepEqual(await store.search.candidates(q), []);
  });
}
