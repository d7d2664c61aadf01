import assert from "node:assert/strict";
import { AppError, conflict, forbidden } from "../../src/domain/errors.ts";
import { newId } from "../../src/ids.ts";
import { addUser, groupInput, member, textChange, tick } from "./_fixtures.ts";
import type { Change, InviteLinkRecord, Store } from "../../src/store/store.ts";
import type { ContractTest } from "./store_contract.ts";

const sealed = (text: string) => ({ keyId: "k1", blob: new TextEncoder().encode(text) });

/** A join through `code` (or a plain add when absent), checked against bans. */
function joinChange(conversationId: string, userId: string, code?: string): Change {
  const at = tick();
  return {
    conversationId,
    event: "member.added",
    actorId: userId,
    at,
    data: {},
    mutations: [{ op: "addMembers", members: [member(conversationId, userId, "member", at)] }],
    expect: [
      { kind: "notBanned", userId, at, error: forbidden("banned") },
      ...(code ? [{ kind: "inviteUse" as const, code, at, error: conflict("gone") }] : []),
    ],
  };
}

async function rejects(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (err) => err instanceof AppError && err.message === message);
}

function link(conversationId: string, createdBy: string, extra: Partial<InviteLinkRecord> = {}) {
  return {
    code: newId(),
    conversationId,
    createdBy,
    createdAt: tick(),
    expiresAt: null,
    maxUses: null,
    uses: 0,
    revokedAt: null,
    ...extra,
  };
}

async function group(store: Store, owner: string, others: string[] = []) {
  return (await store.conversations.createConversation(groupInput(owner, others))).conversation;
}

export function moderationContract(test: ContractTest): void {
  test("blocks: one way each, listed newest first, seen from both sides", async (store) => {
    const [a, b, c] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const m = store.moderation;
    assert.equal(await m.putBlock({ userId: a.id, blockedId: b.id, createdAt: tick() }), true);
    assert.equal(await m.putBlock({ userId: a.id, blockedId: b.id, createdAt: tick() }), false);
    assert.equal(await m.putBlock({ userId: a.id, blockedId: c.id, createdAt: tick() }), true);
    assert.equal(await m.putBlock({ userId: c.id, blockedId: a.id, createdAt: tick() }), true);
    assert.deepEqual((await m.listBlocks(a.id)).map((x) => x.blockedId), [c.id, b.id]);
    assert.deepEqual(await m.listBlockers(b.id), [a.id]);
    const between = await m.blocksBetween(a.id, [b.id, c.id]);
    assert.deepEqual([...between.blocking].sort(), [b.id, c.id].sort());
    assert.deepEqual([...between.blockedBy], [c.id]);
    assert.equal(await m.deleteBlock(a.id, b.id), true);
    assert.equal(await m.deleteBlock(a.id, b.id), false);
    assert.deepEqual(await m.listBlockers(b.id), []);
  });

  test("invitations: one pending per group and invitee, answered once", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const g = await group(store, a.id);
    const m = store.moderation;
    const invite = () => ({
      id: newId(),
      conversationId: g.id,
      inviterId: a.id,
      inviteeId: b.id,
      status: "pending" as const,
      createdAt: tick(),
      answeredAt: null,
    });
    const first = await m.createInvitation(invite());
    const again = await m.createInvitation(invite());
    assert.equal(again.id, first.id, "the pending one is returned");
    assert.deepEqual((await m.listInvitations(b.id)).map((i) => i.id), [first.id]);
    assert.equal(await m.answerInvitation(first.id, "declined", tick()), true);
    assert.equal(await m.answerInvitation(first.id, "accepted", tick()), false);
    assert.equal((await m.getInvitation(first.id))!.status, "declined");
    assert.deepEqual(await m.listInvitations(b.id), []);
    const next = await m.createInvitation(invite());
    assert.notEqual(next.id, first.id, "a new invitation after an answer");
  });

  test("reports: open and resolved queues, newest first, anonymized by erasure", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const m = store.moderation;
    const report = (reason: "spam" | "abuse") => ({
      id: newId(),
      reporterId: a.id,
      reason,
      note: sealed("note"),
      conversationId: null,
      messageId: null,
      userId: b.id,
      evidence: sealed("evidence"),
      status: "open" as const,
      resolution: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: tick(),
    });
    const [r1, r2, r3] = [report("spam"), report("abuse"), report("spam")];
    for (const r of [r1, r2, r3]) await m.createReport(r);
    assert.deepEqual(await m.getReport(r1.id), r1);
    const open = await m.listReports("open", { limit: 2 });
    assert.deepEqual(open.map((r) => r.id), [r3.id, r2.id]);
    const rest = await m.listReports("open", {
      limit: 2,
      after: { createdAt: open[1].createdAt, id: open[1].id },
    });
    assert.deepEqual(rest.map((r) => r.id), [r1.id]);
    const at = tick();
    assert.equal(
      await m.resolveReport(r2.id, { status: "resolved", resolution: "warned", by: b.id, at }),
      true,
    );
    assert.equal(
      await m.resolveReport("nope", { status: "resolved", resolution: null, by: b.id, at }),
      false,
    );
    const resolved = await m.listReports("resolved", { limit: 10 });
    assert.deepEqual(resolved.map((r) => [r.id, r.resolution, r.resolvedBy, r.resolvedAt]), [
      [r2.id, "warned", b.id, at],
    ]);
    assert.equal((await m.listReportsBy(a.id)).length, 3);
    await m.eraseUser(a.id);
    assert.deepEqual(await m.listReportsBy(a.id), []);
    const kept = (await m.getReport(r1.id))!;
    assert.equal(kept.reporterId, null);
    assert.equal(kept.note, null);
    assert.deepEqual(kept.evidence, r1.evidence, "the evidence stays for the admins");
  });

  test("bans: replaced, lifted, expiring, and checked inside the join's commit", async (store) => {
    const [a, b, c] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const g = await group(store, a.id);
    const m = store.moderation;
    const ban = (userId: string, until: string | null) =>
      m.putBan({
        conversationId: g.id,
        userId,
        bannedBy: a.id,
        reason: sealed("why"),
        until,
        createdAt: tick(),
      });
    await ban(b.id, null);
    await ban(c.id, "2000-01-01T00:00:00.000Z");
    await rejects(store.log.commit(joinChange(g.id, b.id)), "banned");
    assert.equal((await store.log.commit(joinChange(g.id, c.id))).status, "committed", "expired");
    await ban(b.id, "2999-01-01T00:00:00.000Z");
    assert.equal((await m.getBan(g.id, b.id))!.until, "2999-01-01T00:00:00.000Z", "replaced");
    assert.deepEqual((await m.listBans(g.id)).map((x) => x.userId), [b.id, c.id]);
    assert.equal(await m.deleteBan(g.id, b.id), true);
    assert.equal(await m.deleteBan(g.id, b.id), false);
    assert.equal((await store.log.commit(joinChange(g.id, b.id))).status, "committed");
  });

  test("invite links: uses counted in the join's commit, never past maxUses", async (store) => {
    const [a, ...joiners] = await Promise.all(
      Array.from({ length: 6 }, () => addUser(store)),
    );
    const g = await group(store, a.id);
    const m = store.moderation;
    const limited = link(g.id, a.id, { maxUses: 3 });
    await m.createInviteLink(limited);
    const results = await Promise.allSettled(
      joiners.map((u) => store.log.commit(joinChange(g.id, u.id, limited.code))),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
    assert.equal((await m.getInviteLink(limited.code))!.uses, 3);
    assert.equal((await store.conversations.getConversation(g.id))!.memberCount, 4);

    const expired = link(g.id, a.id, { expiresAt: "2000-01-01T00:00:00.000Z" });
    await m.createInviteLink(expired);
    await rejects(store.log.commit(joinChange(g.id, joiners[4].id, expired.code)), "gone");
    const open = link(g.id, a.id);
    await m.createInviteLink(open);
    const other = await group(store, a.id);
    await rejects(
      store.log.commit(joinChange(other.id, joiners[4].id, open.code)),
      "gone",
    );
    assert.deepEqual(
      new Set((await m.listInviteLinks(g.id)).map((l) => l.code)),
      new Set([limited.code, expired.code, open.code]),
    );
    assert.equal(await m.revokeInviteLink(other.id, open.code, tick()), false, "not its link");
    assert.equal(await m.revokeInviteLink(g.id, open.code, tick()), true);
    assert.equal(await m.revokeInviteLink(g.id, open.code, tick()), false);
    await rejects(store.log.commit(joinChange(g.id, joiners[4].id, open.code)), "gone");
    assert.ok(!(await m.listInviteLinks(g.id)).some((l) => l.code === open.code));
  });

  test("slow mode: of concurrent sends exactly one passes per interval", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const g = await group(store, a.id, [b.id]);
    const slow = () => {
      const at = new Date().toISOString();
      return textChange(g.id, b.id, newId(), {
        expect: [{
          kind: "slowMode",
          userId: b.id,
          since: new Date(Date.parse(at) - 60_000).toISOString(),
          at,
          error: forbidden("slow"),
        }],
      });
    };
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => store.log.commit(slow())),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    assert.ok(results.every((r) => r.status === "fulfilled" || r.reason.message === "slow"));
  });

  test("member mutes, suspension and reach privacy are stored", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const g = await group(store, a.id, [b.id]);
    const until = "2999-01-01T00:00:00.000Z";
    const silence = (value: string | null) =>
      store.log.commit({
        conversationId: g.id,
        event: "member.updated",
        actorId: a.id,
        at: tick(),
        data: {},
        mutations: [{ op: "setSilenced", userId: b.id, until: value }],
      });
    assert.equal((await silence(until)).status, "committed");
    assert.equal((await silence(until)).status, "unchanged");
    assert.equal((await store.conversations.getMember(g.id, b.id))!.silencedUntil, until);
    assert.equal((await silence(null)).status, "committed");
    assert.equal((await store.conversations.getMember(g.id, b.id))!.silencedUntil, null);

    const suspension = { at: tick(), until, reason: sealed("spam") };
    const updated = await store.accounts.updateUser(b.id, {
      suspension,
      privacyDirectMessages: "contacts",
      privacyGroupAdds: "nobody",
    });
    assert.equal(updated.status, "updated");
    const user = (await store.accounts.getUser(b.id))!;
    assert.deepEqual(user.suspension, suspension);
    assert.deepEqual(
      [user.privacy.directMessages, user.privacy.groupAdds],
      ["contacts", "nobody"],
    );
    await store.accounts.updateUser(b.id, { suspension: null });
    assert.equal((await store.accounts.getUser(b.id))!.suspension, null);
    assert.equal((await store.accounts.getUser(a.id))!.privacy.directMessages, "everyone");
  });

  test("discovery finds public groups by folded name; site blocked words", async (store) => {
    const a = await addUser(store);
    const make = async (name: string, isPublic: boolean) => {
      const input = groupInput(a.id, []);
      input.conversation = {
        ...input.conversation,
        name,
        settings: { ...input.conversation.settings, public: isPublic },
      };
      return (await store.conversations.createConversation(input)).conversation;
    };
    const tag = newId().slice(-6).toLowerCase();
    const cafe = await make(`Café ${tag} Lovers`, true);
    await make(`Cafe ${tag} secret`, false);
    const later = await make(`Tea ${tag}`, false);
    const found = await store.moderation.discoverGroups({ query: `cafe ${tag}`, limit: 10 });
    assert.deepEqual(found.map((g) => g.id), [cafe.id]);
    await store.log.commit({
      conversationId: later.id,
      event: "conversation.updated",
      actorId: a.id,
      at: tick(),
      data: {},
      mutations: [{
        op: "updateConversation",
        patch: { name: `Café ${tag} Club`, settings: { ...later.settings, public: true } },
      }],
    });
    const both = await store.moderation.discoverGroups({ query: `cafe ${tag}`, limit: 1 });
    assert.deepEqual(both.map((g) => g.id), [later.id], "club before lovers");
    const next = await store.moderation.discoverGroups({
      query: `cafe ${tag}`,
      limit: 10,
      after: { name: both[0].nameFold, id: both[0].id },
    });
    assert.deepEqual(next.map((g) => g.id), [cafe.id]);

    assert.deepEqual(await store.moderation.siteBlockedWords(), []);
    await store.moderation.setSiteBlockedWords(["spam", "bad word"]);
    assert.deepEqual(await store.moderation.siteBlockedWords(), ["spam", "bad word"]);
    await store.moderation.setSiteBlockedWords([]);
  });

  test("retention purges settled reports and invitations, ended links and bans", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const g = await group(store, a.id);
    const m = store.moderation;
    const report = {
      id: newId(),
      reporterId: a.id,
      reason: "spam" as const,
      note: null,
      conversationId: null,
      messageId: null,
      userId: b.id,
      evidence: null,
      status: "open" as const,
      resolution: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    const open = { ...report, id: newId() };
    await m.createReport(report);
    await m.createReport(open);
    await m.resolveReport(report.id, {
      status: "resolved",
      resolution: null,
      by: a.id,
      at: "2026-01-02T00:00:00.000Z",
    });
    const inv = await m.createInvitation({
      id: newId(),
      conversationId: g.id,
      inviterId: a.id,
      inviteeId: b.id,
      status: "pending",
      createdAt: "2026-01-01T00:00:00.000Z",
      answeredAt: null,
    });
    await m.answerInvitation(inv.id, "declined", "2026-01-02T00:00:00.000Z");
    const ended = link(g.id, a.id, { expiresAt: "2026-01-02T00:00:00.000Z" });
    const live = link(g.id, a.id, { expiresAt: "2999-01-01T00:00:00.000Z" });
    await m.createInviteLink(ended);
    await m.createInviteLink(live);
    await m.putBan({
      conversationId: g.id,
      userId: b.id,
      bannedBy: a.id,
      reason: null,
      until: "2026-01-02T00:00:00.000Z",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    const cutoffs = (at: string) => ({
      reportsResolvedBefore: at,
      invitationsAnsweredBefore: at,
      endedBefore: at,
    });
    assert.equal(await m.purgeModeration(cutoffs("2026-01-01T12:00:00.000Z")), 0);
    assert.equal(await m.purgeModeration(cutoffs("2026-01-03T00:00:00.000Z")), 4);
    assert.equal(await m.getReport(report.id), null);
    assert.ok(await m.getReport(open.id), "open reports stay");
    assert.equal(await m.getInvitation(inv.id), null);
    assert.equal(await m.getInviteLink(ended.code), null);
    assert.ok(await m.getInviteLink(live.code));
    assert.equal(await m.getBan(g.id, b.id), null);
  });

  test("erasure removes blocks both ways, invitations and bans", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const g = await group(store, a.id);
    const m = store.moderation;
    await m.putBlock({ userId: a.id, blockedId: b.id, createdAt: tick() });
    await m.putBlock({ userId: b.id, blockedId: a.id, createdAt: tick() });
    await m.createInvitation({
      id: newId(),
      conversationId: g.id,
      inviterId: a.id,
      inviteeId: b.id,
      status: "pending",
      createdAt: tick(),
      answeredAt: null,
    });
    await m.putBan({
      conversationId: g.id,
      userId: b.id,
      bannedBy: a.id,
      reason: null,
      until: null,
      createdAt: tick(),
    });
    await m.eraseUser(b.id);
    assert.deepEqual(await m.listBlocks(a.id), []);
    assert.deepEqual(await m.listBlocks(b.id), []);
    assert.deepEqual(await m.listInvitations(b.id), []);
    assert.equal(await m.getBan(g.id, b.id), null);
  });
}
