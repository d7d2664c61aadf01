import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import { addUser, session, tick } from "./_fixtures.ts";
import type { User } from "../../src/domain/types.ts";
import type { Store, UserPatch } from "../../src/store/store.ts";
import type { ContractTest } from "./store_contract.ts";

export function accountContract(test: ContractTest): void {
  test("createUser() stores a user and reports a taken username", async (store) => {
    const u = await addUser(store, "alice");
    assert.equal(u.username, "alice");
    assert.equal(u.role, "user");
    assert.equal(u.presence, "online");
    assert.deepEqual(u.privacy, {
      lastSeen: "everyone",
      readReceipts: true,
      directMessages: "everyone",
      groupAdds: "everyone",
    });
    assert.equal(u.suspension, null);
    assert.deepEqual(await store.accounts.getUser(u.id), u);
    assert.deepEqual(await store.accounts.getUserByUsername("alice"), u);
    const again = await store.accounts.createUser({
      id: newId(),
      username: "alice",
      displayName: "Another",
      passwordHash: "x",
      role: "user",
      createdAt: tick(),
    });
    assert.deepEqual(again, { status: "username_taken" });
    assert.equal(await store.accounts.getUser("missing"), null);
    assert.ok((await store.accounts.getPasswordHash(u.id))!.startsWith("$argon2id$"));
  });

  test("updateUser() changes only given fields, keeps usernames unique, reports a missing user", async (store) => {
    const a = await addUser(store, "anna");
    await addUser(store, "bert");
    const changed = await updated(store, a.id, {
      displayName: "Anna B",
      statusText: "hi",
      presence: "dnd",
      privacyLastSeen: "nobody",
    });
    assert.equal(changed.displayName, "Anna B");
    assert.equal(changed.statusText, "hi");
    assert.equal(changed.presence, "dnd");
    assert.equal(changed.privacy.lastSeen, "nobody");
    assert.equal(changed.privacy.readReceipts, true, "untouched");
    const off = await updated(store, a.id, { privacyReadReceipts: false });
    assert.deepEqual(off.privacy, {
      lastSeen: "nobody",
      readReceipts: false,
      directMessages: "everyone",
      groupAdds: "everyone",
    });
    assert.equal(
      (await updated(store, a.id, { privacyReadReceipts: true })).privacy.readReceipts,
      true,
    );
    assert.equal(changed.username, "anna");
    assert.equal((await updated(store, a.id, { statusText: null })).statusText, null);
    assert.deepEqual(await store.accounts.updateUser(a.id, { username: "bert" }), {
      status: "username_taken",
    });
    assert.equal((await updated(store, a.id, { username: "anna2" })).username, "anna2");
    assert.equal(await store.accounts.getUserByUsername("anna"), null);
    assert.deepEqual(await store.accounts.updateUser("nobody", { statusText: "x" }), {
      status: "missing",
    });
  });

  test("searchUsers() matches username or display name prefixes, paged by username", async (store) => {
    for (const name of ["carol", "carla", "carmen", "dave"]) await addUser(store, name);
    await store.accounts.updateUser((await store.accounts.getUserByUsername("dave"))!.id, {
      displayName: "Carpenter Dave",
    });
    const first = await store.accounts.searchUsers("car", { limit: 2 });
    assert.deepEqual(first.map((u) => u.username), ["carla", "carmen"]);
    const rest = await store.accounts.searchUsers("car", { limit: 10, afterUsername: "carmen" });
    assert.deepEqual(rest.map((u) => u.username), ["carol", "dave"]);
    assert.deepEqual(await store.accounts.searchUsers("zzz", { limit: 5 }), []);
    const ids = first.map((u) => u.id);
    assert.deepEqual((await store.accounts.getUsers(ids)).map((u) => u.id).sort(), ids.sort());
  });

  test("sessions: list live ones newest first, revoke one or all", async (store) => {
    const u = await addUser(store);
    const s1 = session(u.id);
    const s2 = session(u.id);
    const expired = session(u.id, { expiresAt: "2000-01-01T00:00:00.000Z" });
    for (const s of [s1, s2, expired]) await store.accounts.createSession(s, newId());
    const now = new Date().toISOString();
    assert.deepEqual((await store.accounts.listSessions(u.id, now)).map((s) => s.id), [
      s2.id,
      s1.id,
    ]);
    assert.equal(await store.accounts.revokeSession(s1.id, now), true);
    assert.equal(await store.accounts.revokeSession(s1.id, now), false, "already revoked");
    assert.equal((await store.accounts.getSession(s1.id))!.revokedAt, now);
    assert.deepEqual((await store.accounts.listSessions(u.id, now)).map((s) => s.id), [s2.id]);
    assert.deepEqual(
      (await store.accounts.revokeUserSessions(u.id, now)).sort(),
      [s2.id, expired.id].sort(),
    );
    assert.deepEqual(await store.accounts.listSessions(u.id, now), []);
    await store.accounts.touchSession(s2.id, "2030-01-01T00:00:00.000Z");
    assert.equal((await store.accounts.getSession(s2.id))!.lastSeenAt, "2030-01-01T00:00:00.000Z");
  });

  test("every revocation is recorded for polling instances; records can be purged", async (store) => {
    const u = await addUser(store);
    const before = new Date(Date.now() - 1000).toISOString();
    const [a, b, c] = [session(u.id), session(u.id), session(u.id)];
    for (const s of [a, b, c]) await store.accounts.createSession(s, newId());
    const now = new Date().toISOString();
    await store.accounts.revokeSession(a.id, now);
    await store.accounts.revokeUserSessions(u.id, now, { except: c.id });
    const seen = new Set(await store.accounts.revokedSessionsSince(before));
    assert.ok(seen.has(a.id) && seen.has(b.id), "revoked one by one and all at once");
    assert.ok(!seen.has(c.id), "a live session is not listed");
    // Erasure deletes the sessions that are left: they count as revoked too.
    await store.privacy.beginErasure(u.id, {
      at: now,
      username: `deleted:${u.id}`,
      displayName: "Deleted",
    });
    assert.ok((await store.accounts.revokedSessionsSince(before)).includes(c.id), "deleted");
    const later = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual(await store.accounts.revokedSessionsSince(later), []);
    assert.ok(await store.accounts.purgeRevocations(later) >= 3);
    assert.deepEqual(await store.accounts.revokedSessionsSince(before), []);
  });

  test("rotateRefreshToken() rotates once; the spent token revokes the session", async (store) => {
    const u = await addUser(store);
    const s = session(u.id);
    await store.accounts.createSession(s, "hash-1");
    const later = "2999-06-01T00:00:00.000Z";
    const r1 = await store.accounts.rotateRefreshToken("hash-1", "hash-2", tick(), later);
    assert.equal(r1.status, "rotated");
    assert.equal(r1.status === "rotated" && r1.session.expiresAt, later);
    const r2 = await store.accounts.rotateRefreshToken("hash-2", "hash-3", tick(), later);
    assert.equal(r2.status, "rotated");
    const reuse = await store.accounts.rotateRefreshToken("hash-1", "hash-x", tick(), later);
    assert.equal(reuse.status, "reused");
    assert.ok((await store.accounts.getSession(s.id))!.revokedAt, "whole session revoked");
    assert.equal(
      (await store.accounts.rotateRefreshToken("hash-3", "hash-4", tick(), later)).status,
      "invalid",
    );
    assert.equal(
      (await store.accounts.rotateRefreshToken("unknown", "h", tick(), later)).status,
      "invalid",
    );
  });

  test("ensureUserKey() creates one current key per user, even when racing", async (store) => {
    const u = await addUser(store);
    let made = 0;
    const make = () => {
      made++;
      return Promise.resolve({
        id: newId(),
        userId: u.id,
        wrapped: new Uint8Array([made]),
        kekId: "kek-1",
        createdAt: tick(),
      });
    };
    const keys = await Promise.all(
      Array.from({ length: 5 }, () => store.accounts.ensureUserKey(u.id, make)),
    );
    assert.equal(new Set(keys.map((k) => k.id)).size, 1);
    const key = keys[0];
    assert.deepEqual(await store.accounts.getUserKey(key.id), key);
    assert.deepEqual((await store.accounts.userKeysNotWrappedBy("kek-2", 10)).map((k) => k.id), [
      key.id,
    ]);
    await store.accounts.rewrapUserKey(key.id, new Uint8Array([9, 9]), "kek-2");
    assert.deepEqual(await store.accounts.userKeysNotWrappedBy("kek-2", 10), []);
    assert.deepEqual((await store.accounts.getUserKey(key.id))!.wrapped, new Uint8Array([9, 9]));
  });

  test("audit entries are listed newest first and filter by action and actor", async (store) => {
    const ids: string[] = [];
    for (const action of ["login.failed", "login.succeeded", "login.failed"]) {
      const id = newId();
      ids.push(id);
      await store.audit.appendAudit({
        id,
        at: tick(),
        action,
        actorId: action === "login.failed" ? null : "u1",
        targetId: "u1",
        ip: "10.0.0.1",
        userAgent: "test",
        details: { n: ids.length },
      });
      await new Promise((r) => setTimeout(r, 2));
    }
    const all = await store.audit.listAudit({ limit: 10 });
    assert.deepEqual(all.map((e) => e.id), [...ids].reverse());
    assert.deepEqual(all[0].details, { n: 3 });
    assert.equal((await store.audit.listAudit({ limit: 10, action: "login.failed" })).length, 2);
    assert.equal((await store.audit.listAudit({ limit: 10, actorId: "u1" })).length, 1);
    assert.deepEqual(
      (await store.audit.listAudit({ limit: 10, before: ids[2] })).map((e) => e.id),
      [
        ids[1],
        ids[0],
      ],
    );
  });
}

/** Updates a user the test knows exists and returns it as updated. */
async function updated(store: Store, id: string, patch: UserPatch): Promise<User> {
  const outcome = await store.accounts.updateUser(id, patch);
  assert.equal(outcome.status, "updated");
  return (outcome as { user: User }).user;
}
