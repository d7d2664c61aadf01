import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "pins: moderators and up pin in groups; the event, the system message and the list",
  async (s) => {
    const [owner, mod, member, outsider] = await registerUsers(s.url, 4);
    const g = await createGroup(owner, "Pins", [mod, member]);
    ok(
      await owner.client.patch(`/v1/conversations/${g.id}/members/${mod.id}`, {
        role: "moderator",
      }),
    );
    const memberWs = await WsClient.connect(s.url, member.accessToken);
    const m1 = ok(
      await member.client.post(`/v1/conversations/${g.id}/messages`, {
        clientMsgId: "p1",
        text: "one",
      }),
      201,
    ).body.message;
    const m2 = ok(
      await member.client.post(`/v1/conversations/${g.id}/messages`, {
        clientMsgId: "p2",
        text: "two",
      }),
      201,
    ).body.message;
    const pin = (u: typeof owner, id: string) =>
      u.client.put(`/v1/conversations/${g.id}/pins/${id}`);

    assertProblem(await pin(member, m1.id), 403, "forbidden");
    assertProblem(await pin(outsider, m1.id), 404, "not_found");
    ok(await pin(mod, m1.id), 204);
    const event = await memberWs.next((f) => f.event === "pin.updated");
    assert.deepEqual(
      { messageId: event.data.messageId, pinned: event.data.pinned, by: event.data.by },
      { messageId: m1.id, pinned: true, by: mod.id },
    );
    assert.equal(event.data.message.kind, "system");
    assert.deepEqual(event.data.message.system, {
      action: "message.pinned",
      actorId: mod.id,
      messageId: m1.id,
    });
    const head = ok(await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq;
    ok(await pin(owner, m1.id), 204);
    assert.equal(
      ok(await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq,
      head,
      "idempotent: no event",
    );
    ok(await pin(owner, m2.id), 204);
    const pins = ok(await member.client.get(`/v1/conversations/${g.id}/pins`)).body.pins;
    assert.deepEqual(pins.map((p: any) => [p.message.id, p.pinnedBy]), [[m2.id, owner.id], [
      m1.id,
      mod.id,
    ]]);
    assert.equal(pins[1].message.text, "one");
    assertProblem(await outsider.client.get(`/v1/conversations/${g.id}/pins`), 404, "not_found");

    assertProblem(
      await member.client.delete(`/v1/conversations/${g.id}/pins/${m1.id}`),
      403,
      "forbidden",
    );
    ok(await mod.client.delete(`/v1/conversations/${g.id}/pins/${m1.id}`), 204);
    const unpinned = await memberWs.next((f) => f.event === "pin.updated" && !f.data.pinned);
    assert.equal(unpinned.data.message.system.action, "message.unpinned");
    ok(await member.client.delete(`/v1/conversations/${g.id}/messages/${m2.id}?for=everyone`), 204);
    assert.deepEqual(
      ok(await member.client.get(`/v1/conversations/${g.id}/pins`)).body.pins,
      [],
      "deleting unpins",
    );
    await memberWs.close();
  },
);

serverTest(
  "pins: either member pins in a direct conversation; bad targets and the limit of 50",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const d =
      ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201).body.id;
    const other =
      ok(await a.client.post("/v1/conversations", { type: "direct", userId: c.id }), 201).body.id;
    const elsewhere = await sendMessage(a, other, { text: "elsewhere" });
    const deleted = await sendMessage(a, d, { text: "gone" });
    ok(await a.client.delete(`/v1/conversations/${d}/messages/${deleted.id}?for=everyone`), 204);
    const path = (id: string) => `/v1/conversations/${d}/pins/${id}`;
    assertProblem(await b.client.put(path("nope")), 404, "not_found");
    assertProblem(await b.client.put(path(elsewhere.id)), 404, "not_found");
    assertProblem(await b.client.put(path(deleted.id)), 409, "conflict");
    const system = ok(await a.client.get(`/v1/conversations/${d}/messages`)).body.messages
      .find((m: any) => m.kind === "system");
    assertProblem(await b.client.put(path(system.id)), 403, "forbidden");
    const ids: string[] = [];
    for (let i = 0; i < 51; i++) {
      ids.push(
        (await sendMessage(i % 2 ? a : b, d, { text: `m${i}` })).id,
      );
    }
    for (const id of ids.slice(0, 50)) {
      ok(
        await (ids.indexOf(id) % 2 ? a : b).client.put(path(id)),
        204,
      );
    }
    assertProblem(await a.client.put(path(ids[50])), 409, "conflict");
    assert.equal(ok(await b.client.get(`/v1/conversations/${d}/pins`)).body.pins.length, 50);
  },
);
