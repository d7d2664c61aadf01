// The permission matrix of the contract (shared/API.md, "Conversations and groups"), encoded here a
// second time, independently of src/domain/permissions.ts, and compared with `can()`.
import assert from "node:assert/strict";
import fc from "fast-check";
import { can, type GroupAction, roleChangeAction } from "../../src/domain/permissions.ts";
import type { GroupSettings, MemberRole } from "../../src/domain/types.ts";

const RANK: Record<MemberRole, number> = { owner: 4, admin: 3, moderator: 2, member: 1 };
const ROLES: MemberRole[] = ["owner", "admin", "moderator", "member"];
const ACTIONS: GroupAction[] = [
  "send",
  "react",
  "leave",
  "addMembers",
  "removeMember",
  "deleteOthersMessage",
  "editInfo",
  "setRoleUpToModerator",
  "setRoleAdmin",
  "transferOwnership",
  "deleteGroup",
  "pin",
  "mentionAll",
  "ban",
  "muteMember",
  "manageInvites",
  "bypassSlowMode",
];
/** Actions done to another member: only to members ranked strictly below the actor. */
const ON_OTHERS: GroupAction[] = [
  "removeMember",
  "deleteOthersMessage",
  "setRoleUpToModerator",
  "setRoleAdmin",
  "ban",
  "muteMember",
];

/** The contract's least rank for `action` under `settings`. */
function contractLeastRank(action: GroupAction, settings: GroupSettings): number {
  switch (action) {
    case "send":
      return settings.onlyAdminsCanSend ? RANK.admin : RANK.member;
    case "react":
    case "leave":
      return RANK.member;
    case "addMembers":
      return settings.membersCanAddMembers ? RANK.member : RANK.moderator;
    case "removeMember":
    case "deleteOthersMessage":
    case "pin":
    case "ban":
    case "muteMember":
    case "bypassSlowMode":
      return RANK.moderator;
    case "manageInvites":
      return settings.membersCanAddMembers ? RANK.member : RANK.admin;
    case "editInfo":
    case "setRoleUpToModerator":
      return RANK.admin;
    case "mentionAll":
      return settings.membersCanMentionAll ? RANK.member : RANK.admin;
    case "setRoleAdmin":
    case "transferOwnership":
    case "deleteGroup":
      return RANK.owner;
  }
}

/** What the contract allows; a missing target role is judged on the actor alone. */
function contractAllows(
  actor: MemberRole,
  action: GroupAction,
  target: MemberRole | null | undefined,
  settings: GroupSettings,
): boolean {
  if (RANK[actor] < contractLeastRank(action, settings)) return false;
  if (ON_OTHERS.includes(action) && target) return RANK[actor] > RANK[target];
  return true;
}

const role = fc.constantFrom(...ROLES);
const action = fc.constantFrom(...ACTIONS);
const target = fc.oneof(role, fc.constant(null), fc.constant(undefined));
const settings = fc.record({
  onlyAdminsCanSend: fc.boolean(),
  onlyAdminsCanEditInfo: fc.boolean(),
  membersCanAddMembers: fc.boolean(),
  messageTtlSeconds: fc.option(fc.integer({ min: 5, max: 7_776_000 })),
  membersCanMentionAll: fc.boolean(),
  slowModeSeconds: fc.integer({ min: 0, max: 3600 }),
  blockedWords: fc.constant<string[]>([]),
  public: fc.boolean(),
});

Deno.test("can() agrees with the contract's permission matrix for any role, action, target and settings", () => {
  fc.assert(
    fc.property(role, action, target, settings, (a, act, t, s) => {
      assert.equal(
        can(a, act, t, s),
        contractAllows(a, act, t, s),
        `${a} ${act} ${t} ${JSON.stringify(s)}`,
      );
    }),
    { numRuns: 5000 },
  );
});

Deno.test("can() agrees with the contract on every combination (exhaustive walk)", () => {
  const targets = [...ROLES, null, undefined];
  const bools = [false, true];
  let checked = 0;
  for (const a of ROLES) {
    for (const act of ACTIONS) {
      for (const t of targets) {
        for (const onlyAdminsCanSend of bools) {
          for (const onlyAdminsCanEditInfo of bools) {
            for (const membersCanAddMembers of bools) {
              for (const membersCanMentionAll of bools) {
                const s = {
                  onlyAdminsCanSend,
                  onlyAdminsCanEditInfo,
                  membersCanAddMembers,
                  messageTtlSeconds: null,
                  membersCanMentionAll,
                  slowModeSeconds: 0,
                  blockedWords: [],
                  public: false,
                };
                assert.equal(can(a, act, t, s), contractAllows(a, act, t, s), `${a} ${act} ${t}`);
                checked++;
              }
            }
          }
        }
      }
    }
  }
  assert.equal(checked, 4 * 17 * 6 * 16);
});

Deno.test("can() is monotonic in rank: a role may do what every role below it may", () => {
  fc.assert(
    fc.property(role, role, action, target, settings, (lower, higher, act, t, s) => {
      fc.pre(RANK[higher] > RANK[lower]);
      if (can(lower, act, t, s)) assert.ok(can(higher, act, t, s), `${higher} ${act} ${t}`);
    }),
  );
});

Deno.test("nobody can act on a peer or a superior", () => {
  for (const s of [settingsOf(false), settingsOf(true)]) {
    for (const actor of ROLES) {
      for (const t of ROLES.filter((r) => RANK[r] >= RANK[actor])) {
        for (const act of ON_OTHERS) {
          assert.equal(can(actor, act, t, s), false, `${actor} ${act} on ${t}`);
        }
      }
    }
  }
});

Deno.test("the owner can never be removed, and its messages never deleted by others", () => {
  for (const s of [settingsOf(false), settingsOf(true)]) {
    for (const actor of ROLES) {
      assert.equal(can(actor, "removeMember", "owner", s), false, actor);
      assert.equal(can(actor, "deleteOthersMessage", "owner", s), false, actor);
    }
  }
});

Deno.test("settings move only the actions they name", () => {
  const off = settingsOf(false);
  assert.equal(can("moderator", "send", null, { ...off, onlyAdminsCanSend: true }), false);
  assert.equal(can("admin", "send", null, { ...off, onlyAdminsCanSend: true }), true);
  assert.equal(can("member", "react", null, { ...off, onlyAdminsCanSend: true }), true);
  assert.equal(can("member", "addMembers", null, off), false);
  assert.equal(can("member", "addMembers", null, { ...off, membersCanAddMembers: true }), true);
  assert.equal(
    can("member", "removeMember", "member", { ...off, membersCanAddMembers: true }),
    false,
  );
  assert.equal(can("moderator", "editInfo", null, settingsOf(true)), false);
});

Deno.test("roleChangeAction() needs setRoleAdmin only to make an admin", () => {
  assert.equal(roleChangeAction("admin"), "setRoleAdmin");
  assert.equal(roleChangeAction("moderator"), "setRoleUpToModerator");
  assert.equal(roleChangeAction("member"), "setRoleUpToModerator");
});

function settingsOf(value: boolean): GroupSettings {
  return {
    onlyAdminsCanSend: value,
    onlyAdminsCanEditInfo: value,
    membersCanAddMembers: value,
    messageTtlSeconds: null,
    membersCanMentionAll: value,
    slowModeSeconds: value ? 30 : 0,
    blockedWords: [],
    public: value,
  };
}
