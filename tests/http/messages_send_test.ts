// Sending: the message shape and what a message may contain (text rules, media, replies, mentions).
import assert from "node:assert/strict";
import {
  allMessages,
  direct,
  errorPaths,
  group,
  ISO_MS,
  send,
  sendOk,
  userMessages,
} from "../support/conversations.ts";
import { assertProblem, registerUsers, serverTest } from "../support/server.ts";

serverTest("send answers 201 with the contract's message shape", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const conv = await direct(a, b);
  const res = await a.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: "first-message",
    text: "hello there",
    mentions: [b.id],
  });
  assert.equal(res.status, 201);
  const m = res.body.message;
  assert.equal(typeof m.id, "string");
  assert.equal(m.conversationId, conv);
  assert.ok(Number.isInteger(m.seq) && m.seq > 0);
  assert.equal(m.senderId, a.id);
  assert.equal(m.clientMsgId, "first-message");
  assert.equal(m.kind, "text");
  assert.equal(m.text, "hello there");
  assert.deepEqual(m.media, []);
  assert.deepEqual(m.mentions, [b.id]);
  assert.deepEqual(m.reactions, []);
  assert.match(m.createdAt, ISO_MS);
  assert.equal(m.editedAt, undefined);
  assert.equal(m.deletedAt, undefined);
  const seen = await b.client.get(`/v1/conversations/${conv}/messages`);
  assert.deepEqual(seen.body.messages.at(-1), m, "the recipient sees the same message");
});

serverTest(
  "text must not be empty or only whitespace, and counts graphemes up to 4,000",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    for (const text of ["", "   ", " \n\t "]) {
      const res = await send(a, conv, { text });
      assertProblem(res, 400, "validation_failed");
      assert.deepEqual(errorPaths(res), ["text"], JSON.stringify(text));
    }
    const max = "👍🏽".repeat(4000); // 4,000 graphemes, 16,000 code units, 32,000 bytes
    const ok = await send(a, conv, { text: max });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.message.text, max);
    const over = await send(a, conv, { text: "👍🏽".repeat(4001) });
    assertProblem(over, 400, "validation_failed");
    assert.deepEqual(errorPaths(over), ["text"]);
    const family = "👨‍👩‍👧‍👦"; // 25 bytes of UTF-8, one grapheme
    const heavy = await send(a, conv, { text: family.repeat(1400) }); // 35,000 bytes
    assertProblem(heavy, 400, "validation_failed");
    assert.match(heavy.body.errors[0].message, /bytes/);
    assert.equal((await send(a, conv, { text: family.repeat(1300) })).status, 201); // 32,500 bytes
  },
);

serverTest(
  "text rejects control characters, carriage returns and lone surrogates; allows newline and tab",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    for (const text of ["ding\u0007", "line\r\nbreak", "nul\u0000", "del\u007f", "c1\u0085"]) {
      const res = await send(a, conv, { text });
      assertProblem(res, 400, "validation_failed");
      assert.deepEqual(errorPaths(res), ["text"], JSON.stringify(text));
    }
    const multi = await send(a, conv, { text: "line one\nline two\tindented" });
    assert.equal(multi.status, 201);
    assert.equal(multi.body.message.text, "line one\nline two\tindented");
    const raw = `{"clientMsgId":"lone-surrogate","text":"bad \\ud800 text"}`;
    const lone = await a.client.post(`/v1/conversations/${conv}/messages`, raw);
    assertProblem(lone, 400, "validation_failed");
    assert.deepEqual(errorPaths(lone), ["text"]);
  },
);

serverTest("text is stored in NFC: a combining accent comes back precomposed", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const conv = await direct(a, b);
  const res = await send(a, conv, { text: "caf" + "e\u0301" });
  assert.equal(res.status, 201);
  assert.equal(res.body.message.text, "caf\u00e9");
  const seen = userMessages(await allMessages(b, conv));
  assert.equal(seen[0].text, "caf\u00e9");
  const edited = await a.client.patch(`/v1/conversations/${conv}/messages/${seen[0].id}`, {
    text: "A\u030a",
  });
  assert.equal(edited.body.text, "\u00c5", "edits are normalised too");
});

serverTest("a message needs text or mediaIds, and unknown media is a 400", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const conv = await direct(a, b);
  const none = await send(a, conv, {});
  assertProblem(none, 400, "validation_failed");
  assert.deepEqual(errorPaths(none), ["text"]);
  const empty = await send(a, conv, { mediaIds: [] });
  assertProblem(empty, 400, "validation_failed");
  assert.deepEqual(errorPaths(empty), ["text"]);
  const unknown = await send(a, conv, { mediaIds: ["no-such-media"] });
  assertProblem(unknown, 400, "validation_failed");
  assert.deepEqual(errorPaths(unknown), ["mediaIds"]);
  assert.equal(userMessages(await allMessages(a, conv)).length, 0);
});

serverTest("replyTo must name a message of the same conversation", async (s) => {
  const [a, b, c] = await registerUsers(s.url, 3);
  const conv = await direct(a, b);
  const other = await direct(a, c);
  const target = await sendOk(b, conv, "question?");
  const elsewhere = await sendOk(a, other, "unrelated");
  const reply = await send(a, conv, { text: "answer", replyTo: target.id });
  assert.equal(reply.status, 201);
  assert.equal(reply.body.message.replyTo, target.id);
  const seen = userMessages(await allMessages(b, conv)).at(-1);
  assert.equal(seen.replyTo, target.id);
  const cross = await send(a, conv, { text: "answer", replyTo: elsewhere.id });
  assertProblem(cross, 400, "validation_failed");
  assert.deepEqual(errorPaths(cross), ["replyTo"]);
  const missing = await send(a, conv, { text: "answer", replyTo: "nope" });
  assert.deepEqual(errorPaths(missing), ["replyTo"]);
});

serverTest("mentions must be members of the conversation", async (s) => {
  const [owner, member, outsider] = await registerUsers(s.url, 3);
  const conv = await group(owner, [member]);
  const ok = await send(owner, conv, { text: "hi @member", mentions: [member.id, owner.id] });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.body.message.mentions, [member.id, owner.id]);
  const bad = await send(owner, conv, { text: "hi @outsider", mentions: [outsider.id] });
  assertProblem(bad, 400, "validation_failed");
  assert.deepEqual(errorPaths(bad), ["mentions"]);
});
