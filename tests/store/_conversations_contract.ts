import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import type { Change } from "../../src/store/store.ts";
import {
  addUser,
  directInput,
  FORBIDDEN,
  groupInput,
  member,
  textChange,
  tick,
} from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

export function conversationContract(test: ContractTest): void {
  test("there is only ever one direct conversation per pair, even when created in parallel", async (store) => {
    const a = await addUser(store);
    const b = await addUser(store);
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          store.conversations.createConversation(
            i % 2 ? directInput(a.id, b.id) : directInput(b.id, a.id),
          ),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.conversation.id)).size, 1);
    const c = results[0].conversation;
    assert.equal(c.type, "direct");
    assert.equal(c.memberCount, 2);
    assert.equal(c.lastSeq, 1);
    assert.deepEqual((await store.conversations.memberIds(c.id)).sort(), [a.id, b.id].sort());
    const events = await store.log.listEvents(c.id, { after: 0, limit: 10 });
    assert.deepEqual(events.events.map((e) => [e.seq, e.event]), [[1, "conversation.created"]]);
    const sys = events.messages.get(events.events[0].messageId!)!;
    assert.equal(sys.kind, "system");
    assert.equal(sys.seq, 1);
    // The system message is the one the caller chose, stored as given.
    assert.equal(sys.system?.action, "conversation.created");
    assert.deepEqual([...sys.system?.userIds ?? []].sort(), [a.id, b.id].sort());
    assert.ok(store.log.holeSettleMs >= 0, "the log states its hole-settle time");
  });

  test("groups: members by join order, heads, contacts and shared membership", async (store) => {
    const [o, m1, m2, stranger] = await Promise.all([
      addUser(store),
      addUser(store),
      addUser(store),
      addUser(store),
    ]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(o.id, [m1.id, m2.id]),
    );
    assert.equal(g.memberCount, 3);
    assert.equal((await store.conversations.getMember(g.id, o.id))!.role, "owner");
    assert.equal(await store.conversations.getMember(g.id, stranger.id), null);
    const some = await store.conversations.getMembers(g.id, [m2.id, stranger.id, o.id, "nobody"]);
    assert.deepEqual(some.map((m) => m.userId).sort(), [m2.id, o.id].sort(), "members only");
    assert.deepEqual(
      some.find((m) => m.userId === o.id),
      await store.conversations.getMember(g.id, o.id),
    );
    assert.deepEqual(await store.conversations.getMembers(g.id, []), []);
    const page1 = await store.conversations.listMembers(g.id, { limit: 2 });
    assert.deepEqual(page1.map((m) => m.userId), [o.id, m1.id]);
    const cursor = { joinedAt: page1[1].joinedAt, userId: page1[1].userId };
    const page2 = await store.conversations.listMembers(g.id, { limit: 2, after: cursor });
    assert.deepEqual(page2.map((m) => m.userId), [m2.id]);
    assert.deepEqual(await store.log.conversationHeads(m1.id), [{ id: g.id, lastSeq: 1 }]);
    assert.deepEqual((await store.conversations.contactIds(o.id)).sort(), [m1.id, m2.id].sort());
    assert.equal(await store.conversations.sharesConversation(m1.id, m2.id), true);
    assert.equal(await store.conversations.sharesConversation(m1.id, stranger.id), false);
    const state = await store.conversations.setMemberState(g.id, m1.id, {
      muted: true,
      mutedUntil: "2030-01-01T00:00:00.000Z",
      archived: true,
    });
    assert.equal(state!.muted, true);
    assert.equal(state!.mutedUntil, "2030-01-01T00:00:00.000Z");
    assert.equal(state!.archived, true);
    assert.equal(
      await store.conversations.setMemberState(g.id, stranger.id, { muted: true }),
      null,
    );
    // The cursor is a position, not a member: it still works after that member left.
    await store.log.commit({
      conversationId: g.id,
      event: "member.removed",
      actorId: m1.id,
      at: tick(),
      mutations: [{ op: "removeMember", userId: m1.id }],
    });
    assert.deepEqual(
      (await store.conversations.listMembers(g.id, { limit: 2, after: cursor })).map((m) =>
        m.userId
      ),
      [m2.id],
    );
  });

  test("group changes commit with their event and a system message at the event's seq", async (store) => {
    const [o, m1, m2] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(o.id, [m1.id]),
    );
    const change = (
      mutations: Change["mutations"],
      event: Change["event"],
      expect?: Change["expect"],
    ): Change => ({
      conversationId: g.id,
      event,
      actorId: o.id,
      messageId: newId(),
      system: { action: event, actorId: o.id },
      at: tick(),
      mutations,
      expect,
    });
    const added = await store.log.commit(
      change([{
        op: "addMembers",
        members: [member(g.id, m2.id, "member"), member(g.id, m1.id, "member")],
      }], "member.added"),
    );
    assert.equal(added.status, "committed");
    assert.equal(added.status === "committed" && added.event.seq, 2);
    assert.equal(added.status === "committed" && added.message?.kind, "system");
    assert.equal(added.status === "committed" && added.message?.seq, 2);
    assert.equal(
      (await store.conversations.getConversation(g.id))!.memberCount,
      3,
      "existing members are not added twice",
    );
    assert.equal(
      (await store.conversations.getMember(g.id, m2.id))!.readSeq,
      2,
      "new members start read up to their join",
    );
    const role = await store.log.commit(
      change([{ op: "setRole", userId: m1.id, role: "admin" }], "member.updated"),
    );
    assert.equal(role.status === "committed" && role.event.seq, 3);
    assert.equal((await store.conversations.getMember(g.id, m1.id))!.role, "admin");
    const noop = await store.log.commit(
      change([{ op: "setRole", userId: m1.id, role: "admin" }], "member.updated"),
    );
    assert.equal(noop.status, "unchanged");
    const info = await store.log.commit(
      change([{
        op: "updateConversation",
        patch: {
          name: "Renamed",
          description: "d",
          settings: {
            onlyAdminsCanSend: true,
            onlyAdminsCanEditInfo: false,
            membersCanAddMembers: true,
            messageTtlSeconds: 3600,
            membersCanMentionAll: true,
            slowModeSeconds: 30,
            blockedWords: ["spam"],
            public: true,
          },
        },
      }], "conversation.updated"),
    );
    assert.equal(info.status === "committed" && info.event.seq, 4);
    const g2 = (await store.conversations.getConversation(g.id))!;
    assert.equal(g2.name, "Renamed");
    assert.equal(g2.settings.onlyAdminsCanSend, true);
    assert.equal(g2.lastSeq, 4);
    await store.log.commit(change([{ op: "removeMember", userId: m2.id }], "member.removed"));
    assert.equal(await store.conversations.getMember(g.id, m2.id), null);
    assert.equal((await store.conversations.getConversation(g.id))!.memberCount, 2);
    const del = await store.log.commit(
      change([{ op: "deleteConversation", at: tick() }], "conversation.deleted"),
    );
    assert.equal(del.status === "committed" && del.event.seq, 6);
    assert.ok((await store.conversations.getConversation(g.id))!.deletedAt);
    assert.deepEqual(await store.log.conversationHeads(o.id), []);
    assert.deepEqual(await store.log.commit(textChange(g.id, o.id)), { status: "missing" });
    assert.deepEqual(await store.log.commit(textChange(newId(), o.id)), { status: "missing" });
  });

  test("a failed expectation throws its error and consumes no seq", async (store) => {
    const [o, m1] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(o.id, [m1.id]),
    );
    await assert.rejects(
      store.log.commit({
        conversationId: g.id,
        event: "member.updated",
        actorId: m1.id,
        at: tick(),
        expect: [{ kind: "member", userId: m1.id, roles: ["owner", "admin"], error: FORBIDDEN }],
        mutations: [{ op: "setRole", userId: o.id, role: "member" }],
      }),
      (e) => e === FORBIDDEN,
    );
    assert.equal((await store.conversations.getConversation(g.id))!.lastSeq, 1);
    assert.equal((await store.conversations.getMember(g.id, o.id))!.role, "owner");
  });

  test("listConversations(): latest activity first, archived apart, cursor pages, unread and last message", async (store) => {
    const me = await addUser(store);
    const others = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const convs = [];
    for (const o of others) {
      convs.push(
        (await store.conversations.createConversation(directInput(me.id, o.id))).conversation,
      );
    }
    // Activity: conv[0] gets two messages from its peer last, conv[2] one from me.
    await store.log.commit(textChange(convs[2].id, me.id));
    await store.log.commit(textChange(convs[0].id, others[0].id));
    const last = textChange(convs[0].id, others[0].id);
    await store.log.commit(last);
    const list = await store.conversations.listConversations(me.id, { archived: false, limit: 10 });
    assert.deepEqual(list.map((i) => i.conversation.id), [convs[0].id, convs[2].id, convs[1].id]);
    assert.equal(list[0].unreadCount, 2);
    assert.equal(list[1].unreadCount, 0, "my own messages are not unread");
    assert.equal(list[0].lastMessage!.id, last.messageId);
    assert.equal(list[0].peerId, others[0].id);
    assert.equal(list[2].lastMessage!.kind, "system");
    assert.equal(list[0].member.role, "member");
    const p1 = await store.conversations.listConversations(me.id, { archived: false, limit: 2 });
    const cursor = { updatedAt: p1[1].conversation.updatedAt, id: p1[1].conversation.id };
    const p2 = await store.conversations.listConversations(me.id, {
      archived: false,
      limit: 2,
      cursor,
    });
    assert.deepEqual(p2.map((i) => i.conversation.id), [convs[1].id]);
    await store.messages.advanceMarker(convs[0].id, me.id, "read", 2, tick());
    assert.equal(
      (await store.conversations.listConversations(me.id, { archived: false, limit: 1 }))[0]
        .unreadCount,
      1,
    );
    await store.conversations.setMemberState(convs[1].id, me.id, { archived: true });
    assert.deepEqual(
      (await store.conversations.listConversations(me.id, { archived: true, limit: 10 })).map((i) =>
        i.conversation.id
      ),
      [convs[1].id],
    );
    assert.equal(
      (await store.conversations.listConversations(me.id, { archived: false, limit: 10 })).length,
      2,
    );
  });
}
