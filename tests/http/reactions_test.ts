import assert from "node:assert/strict";
import {
  assertProblem,
  registerUser,
  type Reply,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";

interface Fixture {
  owner: TestUser;
  member: TestUser;
  outsider: TestUser;
  conv: string;
  message: any;
}

async function fixture(s: TestServer): Promise<Fixture> {
  const owner = await registerUser(s.url);
  const member = await registerUser(s.url);
  const outsider = await registerUser(s.url);
  const created = await owner.client.post("/v1/conversations", {
    type: "group",
    name: "Reactions",
    memberIds: [member.id],
  });
  assert.equal(created.status, 201);
  const conv = created.body.id;
  const sent = await member.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: "react-to-me",
    text: "react to me",
  });
  assert.equal(sent.status, 201);
  return { owner, member, outsider, conv, message: sent.body.message };
}

function reactionPath(f: Fixture, emoji: string, messageId = f.message.id): string {
  return `/v1/conversations/${f.conv}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;
}

function react(f: Fixture, u: TestUser, emoji: string): Promise<Reply> {
  return u.client.put(reactionPath(f, emoji));
}

function unreact(f: Fixture, u: TestUser, emoji: string): Promise<Reply> {
  return u.client.delete(reactionPath(f, emoji));
}

/** The message's reactions as `u` sees them in history. */
async function seenBy(f: Fixture, u: TestUser): Promise<any[]> {
  const res = await u.client.get(`/v1/conversations/${f.conv}/messages?limit=200`);
  assert.equal(res.status, 200);
  return res.body.messages.find((m: any) => m.id === f.message.id).reactions;
}

async function lastSeq(f: Fixture): Promise<number> {
  return (await f.owner.client.get(`/v1/conversations/${f.conv}`)).body.lastSeq;
}

async function eventsAfter(f: Fixture, seq: number): Promise<any[]> {
  const res = await f.owner.client.get(`/v1/conversations/${f.conv}/events?after=${seq}`);
  assert.equal(res.status, 200);
  return res.body.events;
}

serverTest("reactions aggregate per emoji with `me` right for each viewer", async (s) => {
  const f = await fixture(s);
  const first = await react(f, f.owner, "👍");
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, { reactions: [{ emoji: "👍", count: 1, me: true }] });
  const second = await react(f, f.member, "👍");
  assert.deepEqual(second.body.reactions, [{ emoji: "👍", count: 2, me: true }]);
  const heart = await react(f, f.member, "❤️");
  assert.deepEqual(heart.body.reactions, [
    { emoji: "👍", count: 2, me: true },
    { emoji: "❤️", count: 1, me: true },
  ]);
  assert.deepEqual(await seenBy(f, f.owner), [
    { emoji: "👍", count: 2, me: true },
    { emoji: "❤️", count: 1, me: false },
  ]);
  assert.deepEqual(await seenBy(f, f.member), [
    { emoji: "👍", count: 2, me: true },
    { emoji: "❤️", count: 1, me: true },
  ]);
  const removed = await unreact(f, f.member, "👍");
  assert.deepEqual(removed.body.reactions, [
    { emoji: "👍", count: 1, me: false },
    { emoji: "❤️", count: 1, me: true },
  ]);
  assert.deepEqual(await seenBy(f, f.owner), [
    { emoji: "👍", count: 1, me: true },
    { emoji: "❤️", count: 1, me: false },
  ]);
  await unreact(f, f.owner, "👍");
  assert.deepEqual(await seenBy(f, f.owner), [{ emoji: "❤️", count: 1, me: false }]);
});

serverTest(
  "PUT and DELETE of a reaction are idempotent, and only effective changes take a seq",
  async (s) => {
    const f = await fixture(s);
    const start = await lastSeq(f);
    const put1 = await react(f, f.owner, "🎉");
    const put2 = await react(f, f.owner, "🎉");
    assert.deepEqual(put2.body, put1.body);
    assert.deepEqual(put2.body.reactions, [{ emoji: "🎉", count: 1, me: true }]);
    const afterAdd = await lastSeq(f);
    assert.equal(afterAdd, start + 1, "one position for one effective change");
    const added = await eventsAfter(f, start);
    assert.equal(added.length, 1);
    assert.equal(added[0].event, "reaction.updated");
    assert.equal(added[0].seq, afterAdd);
    assert.equal(added[0].data.messageId, f.message.id);
    assert.deepEqual(added[0].data.reactions, [{ emoji: "🎉", count: 1, me: true }]);

    const del1 = await unreact(f, f.owner, "🎉");
    const del2 = await unreact(f, f.owner, "🎉");
    assert.deepEqual(del1.body, { reactions: [] });
    assert.deepEqual(del2.body, { reactions: [] });
    assert.equal(await lastSeq(f), afterAdd + 1);
    const removed = await eventsAfter(f, afterAdd);
    assert.equal(removed.length, 1);
    assert.equal(removed[0].event, "reaction.updated");
    assert.deepEqual(removed[0].data.reactions, []);

    // Removing a reaction that was never there changes nothing either.
    assert.deepEqual((await unreact(f, f.member, "🙈")).body, { reactions: [] });
    assert.equal(await lastSeq(f), afterAdd + 1);
  },
);

serverTest(
  "single emoji of every shape are accepted: skin tone, ZWJ family, flag, keycap, variation selector",
  async (s) => {
    const f = await fixture(s);
    const accepted = ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "❤️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"];
    for (const emoji of accepted) {
      const res = await react(f, f.member, emoji);
      assert.equal(res.status, 200, `${emoji}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(
      (await seenBy(f, f.owner)).map((r) => [r.emoji, r.count, r.me]),
      accepted.map((e) => [e, 1, false]),
      "stored exactly as sent, one entry each",
    );
  },
);

serverTest(
  "anything but exactly one emoji is a 400: letters, digits, two emoji, blank",
  async (s) => {
    const f = await fixture(s);
    const start = await lastSeq(f);
    for (const emoji of ["ab", "a", "1", "👍👍", " ", "  ", "👍 ", "#"]) {
      const put = await react(f, f.member, emoji);
      assertProblem(put, 400, "validation_failed");
      assert.deepEqual(put.body.errors.map((e: any) => e.path), ["emoji"], JSON.stringify(emoji));
      assertProblem(await unreact(f, f.member, emoji), 400, "validation_failed");
    }
    const raw = `/v1/conversations/${f.conv}/messages/${f.message.id}/reactions/%20`;
    assertProblem(await f.member.client.put(raw), 400, "validation_failed");
    assert.equal(await lastSeq(f), start);
    assert.deepEqual(await seenBy(f, f.owner), []);
  },
);

serverTest(
  "reacting to a message deleted for everyone is a 409; a non-member gets 404",
  async (s) => {
    const f = await fixture(s);
    assertProblem(await react(f, f.outsider, "👍"), 404, "not_found");
    assertProblem(await unreact(f, f.outsider, "👍"), 404, "not_found");
    assertProblem(
      await f.member.client.put(reactionPath(f, "👍", "no-such-message")),
      404,
      "not_found",
    );
    await react(f, f.owner, "👍");
    const del = await f.member.client.delete(
      `/v1/conversations/${f.conv}/messages/${f.message.id}?for=everyone`,
    );
    assert.equal(del.status, 204);
    assertProblem(await react(f, f.owner, "🔥"), 409, "conflict");
    assertProblem(await unreact(f, f.owner, "👍"), 409, "conflict");
    assert.deepEqual(await seenBy(f, f.owner), [], "a tombstone carries no reactions");
  },
);
