// Scheduled messages and drafts are data of their own about a user: they are in the user's export
// (texts decrypted, listed in the README) and gone with the account.
import assert from "node:assert/strict";
import { downloadArchive, exportReady, jsonLines } from "../support/privacy.ts";
import { ok, registerUsers, serverTest } from "../support/server.ts";

serverTest(
  "the export carries scheduled messages and drafts; erasure removes them and their jobs",
  async (s) => {
    const [alice, bob] = await registerUsers(s.url, 2);
    const c =
      ok(await alice.client.post("/v1/conversations", { type: "direct", userId: bob.id }), 201).body
        .id;
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const { scheduled } = ok(
      await alice.client.post(`/v1/conversations/${c}/scheduled`, {
        clientMsgId: "later",
        text: "scheduled-export-canary",
        sendAt,
      }),
      201,
    ).body;
    ok(await alice.client.put(`/v1/conversations/${c}/draft`, { text: "draft-export-canary" }));

    const exported = await exportReady(alice);
    assert.equal(exported.status, "ready");
    const { files } = await downloadArchive(s.url, exported.url);
    const [sched] = jsonLines(files["scheduled.jsonl"]);
    assert.equal(sched.id, scheduled.id);
    assert.equal(sched.text, "scheduled-export-canary");
    assert.equal(sched.sendAt, sendAt);
    assert.deepEqual(
      jsonLines(files["drafts.jsonl"]).map((d) => [d.conversationId, d.text]),
      [[c, "draft-export-canary"]],
    );
    const readme = new TextDecoder().decode(files["README.txt"]);
    assert.match(readme, /scheduled\.jsonl/);
    assert.match(readme, /drafts\.jsonl/);

    ok(await alice.client.request("DELETE", "/v1/users/me", { password: alice.password }), 204);
    const store = s.parley.store;
    assert.equal(await store.scheduled.getScheduled(scheduled.id), null);
    assert.equal(await store.jobs.getByKey(`scheduled:${scheduled.id}`), null, "nothing will send");
    assert.deepEqual(await store.drafts.listDrafts(alice.id), []);
  },
);
