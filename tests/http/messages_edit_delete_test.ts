// Editing and deleting messages: who may, tombstones, and deleting for me or for everyone.
import assert from "node:assert/strict";
import {
  allMessages,
  direct,
  group,
  ISO_MS,
  sendOk,
  userMessages,
} from "../support/conversations.ts";
import { assertProblem, registerUsers, serverTest, type TestUser } from "../support/server.ts";

serverTest(
  "edit: the author gets the edited message with editedAt; others 403, non-members 404",
  async (s) => {
    const [owner, member, outsider] = await registerUsers(s.url, 3);
    const conv = await group(owner, [member]);
    const m = await sendOk(member, conv, "draft");
    const path = `/v1/conversations/${conv}/messages/${m.id}`;
    assertProblem(await owner.client.patch(path, { text: "hijack" }), 403, "forbidden");
    assertProblem(await outsider.client.patch(path, { text: "hijack" }), 404, "not_found");
    assertProblem(await member.client.patch(path, { text: " " }), 400, "validation_failed");
    const edited = await member.client.patch(path, { text: "final" });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.id, m.id, "PATCH returns the message object itself");
    assert.equal(edited.body.seq, m.seq, "an edit keeps the message's position");
    assert.equal(edited.body.text, "final");
    assert.match(edited.body.editedAt, ISO_MS);
    assert.equal(edited.body.createdAt, m.createdAt);
    const seen = userMessages(await allMessages(owner, conv)).find((x) => x.id === m.id);
    assert.equal(seen.text, "final");
    assert.equal(seen.editedAt, edited.body.editedAt);
    assertProblem(
      await member.client.patch(`/v1/conversations/${conv}/messages/unknown`, { text: "x" }),
      404,
      "not_found",
    );
  },
);

serverTest("editing a message deleted for everyone is a 409 conflict", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const conv = await direct(a, b);
  const m = await sendOk(a, conv, "soon gone");
  const path = `/v1/conversations/${conv}/messages/${m.id}`;
  assert.equal((await a.client.delete(`${path}?for=everyone`)).status, 204);
  assertProblem(await a.client.patch(path, { text: "revived" }), 409, "conflict");
});

serverTest(
  "delete for me (the default) hides the message from that user's history only",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const keep = await sendOk(a, conv, "keep");
    const hide = await sendOk(b, conv, "hide from a");
    const hideExplicit = await sendOk(b, conv, "hide explicitly");
    const base = `/v1/conversations/${conv}/messages`;
    assert.equal((await a.client.delete(`${base}/${hide.id}`)).status, 204);
    assert.equal((await a.client.delete(`${base}/${hideExplicit.id}?for=me`)).status, 204);
    const forA = userMessages(await allMessages(a, conv)).map((m) => m.id);
    const forB = userMessages(await allMessages(b, conv)).map((m) => m.id);
    assert.deepEqual(forA, [keep.id]);
    assert.deepEqual(forB, [keep.id, hide.id, hideExplicit.id]);
    const seenByB = userMessages(await allMessages(b, conv)).find((m) => m.id === hide.id);
    assert.equal(seenByB.text, "hide from a");
    assert.equal(seenByB.deletedAt, undefined);
  },
);

serverTest(
  "delete for everyone leaves a tombstone for all; a second delete is 204 without an event",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const m = await sendOk(a, conv, "regrettable");
    const path = `/v1/conversations/${conv}/messages/${m.id}?for=everyone`;
    assert.equal((await a.client.delete(path)).status, 204);
    const lastSeq = (await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq;
    for (const u of [a, b]) {
      const t = userMessages(await allMessages(u, conv)).find((x) => x.id === m.id);
      assert.ok(t, "the tombstone stays in history");
      assert.match(t.deletedAt, ISO_MS);
      assert.equal(t.text, undefined);
      assert.deepEqual(t.media, []);
      assert.equal(t.seq, m.seq);
    }
    assert.equal((await a.client.delete(path)).status, 204);
    assert.equal((await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq, lastSeq);
    const deletes = (await a.client.get(`/v1/conversations/${conv}/events?after=0`)).body.events
      .filter((e: any) => e.event === "message.deleted");
    assert.equal(deletes.length, 1);
  },
);

serverTest(
  "in a direct conversation nobody deletes the other's message for everyone",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const m = await sendOk(a, conv, "mine");
    assertProblem(
      await b.client.delete(`/v1/conversations/${conv}/messages/${m.id}?for=everyone`),
      403,
      "forbidden",
    );
    const t = userMessages(await allMessages(a, conv)).find((x) => x.id === m.id);
    assert.equal(t.text, "mine");
    const path = `/v1/conversations/${conv}/messages/${m.id}?for=everyone`;
    assert.equal((await a.client.delete(path)).status, 204);
    assertProblem(await b.client.delete(path), 403, "forbidden"); // not a 204 once it is gone
  },
);

serverTest(
  "in a group a moderator deletes a member's message for everyone but not an admin's",
  async (s) => {
    const [owner, admin, mod, member] = await registerUsers(s.url, 4);
    const conv = await group(owner, [admin, mod, member]);
    const roles = `/v1/conversations/${conv}/members`;
    assert.equal(
      (await owner.client.patch(`${roles}/${admin.id}`, { role: "admin" })).status,
      200,
    );
    assert.equal(
      (await owner.client.patch(`${roles}/${mod.id}`, { role: "moderator" })).status,
      200,
    );
    const byMember = await sendOk(member, conv, "spam");
    const byAdmin = await sendOk(admin, conv, "rules");
    const byMod = await sendOk(mod, conv, "mod note");
    const del = (u: TestUser, id: string) =>
      u.client.delete(`/v1/conversations/${conv}/messages/${id}?for=everyone`);
    assertProblem(await del(member, byMod.id), 403, "forbidden");
    assertProblem(await del(mod, byAdmin.id), 403, "forbidden");
    assert.equal((await del(mod, byMember.id)).status, 204);
    const history = userMessages(await allMessages(member, conv));
    const find = (id: string) => history.find((x) => x.id === id);
    assert.ok(find(byMember.id).deletedAt);
    assert.equal(find(byAdmin.id).text, "rules");
    assert.equal(find(byMod.id).text, "mod note");
  },
);
