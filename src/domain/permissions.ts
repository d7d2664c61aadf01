import { type GroupSettings, type MemberRole, ROLE_RANK } from "./types.ts";

/** Everything a member may try to do in a group. */
export type GroupAction =
  | "send"
  | "react"
  | "leave"
  | "addMembers"
  | "removeMember"
  | "deleteOthersMessage"
  | "editInfo"
  | "setRoleUpToModerator"
  | "setRoleAdmin"
  | "transferOwnership"
  | "deleteGroup"
  /** Pin or unpin a message (in a group; anyone may in a direct conversation). */
  | "pin"
  /** Mention everyone (`mentionsAll`). */
  | "mentionAll"
  /** Ban a user from the group (removing them) or lift a ban; see the bans. */
  | "ban"
  /** Mute a member for a while (they may not send until then). */
  | "muteMember"
  /** Create, list and revoke invite links. */
  | "manageInvites"
  /** Send under slow mode without waiting. */
  | "bypassSlowMode";

/**
 * The permission matrix of ../shared/API.md as data: the least role for each action. A role may do
 * what the roles below it may.
 */
export const LEAST_ROLE: Readonly<Record<GroupAction, MemberRole>> = {
  send: "member",
  react: "member",
  leave: "member",
  addMembers: "moderator",
  removeMember: "moderator",
  deleteOthersMessage: "moderator",
  editInfo: "admin",
  setRoleUpToModerator: "admin",
  setRoleAdmin: "owner",
  transferOwnership: "owner",
  deleteGroup: "owner",
  pin: "moderator",
  mentionAll: "admin",
  ban: "moderator",
  muteMember: "moderator",
  manageInvites: "admin",
  bypassSlowMode: "moderator",
};

/** Actions that act on another member: allowed only on members ranked strictly below the actor. */
export const TARGETED: ReadonlySet<GroupAction> = new Set([
  "removeMember",
  "deleteOthersMessage",
  "setRoleUpToModerator",
  "setRoleAdmin",
  "ban",
  "muteMember",
]);

/** How settings move the least role of an action. */
function leastRole(action: GroupAction, settings: GroupSettings): MemberRole {
  if (action === "send" && settings.onlyAdminsCanSend) return "admin";
  if (action === "addMembers" && settings.membersCanAddMembers) return "member";
  if (action === "manageInvites" && settings.membersCanAddMembers) return "member";
  if (action === "editInfo" && settings.onlyAdminsCanEditInfo) return "admin";
  if (action === "mentionAll" && settings.membersCanMentionAll) return "member";
  return LEAST_ROLE[action];
}

/**
 * Whether a member with `actorRole` may do `action` (to a member with `targetRole`, for targeted
 * actions) under `settings`. Nobody acts on a peer or a superior, so the owner can never be removed.
 * A targeted action without a target role, or with a role for a non-member (`null`), is judged on the
 * actor's role alone.
 *
 * @example
 * can("moderator", "removeMember", "member", settings) // true
 * can("moderator", "removeMember", "moderator", settings) // false: a peer
 */
export function can(
  actorRole: MemberRole,
  action: GroupAction,
  targetRole: MemberRole | null | undefined,
  settings: GroupSettings,
): boolean {
  if (ROLE_RANK[actorRole] < ROLE_RANK[leastRole(action, settings)]) return false;
  if (TARGETED.has(action) && targetRole) return ROLE_RANK[actorRole] > ROLE_RANK[targetRole];
  return true;
}

/** Which role-changing action it takes to move a member to `newRole`. */
export function roleChangeAction(newRole: MemberRole): GroupAction {
  return newRole === "admin" ? "setRoleAdmin" : "setRoleUpToModerator";
}

/** All roles, strongest first. */
export const ROLES: readonly MemberRole[] = ["owner", "admin", "moderator", "member"];

/**
 * The roles that may do `action` (judged on the actor's role alone) under `settings`, strongest
 * first: what a commit re-checks, so a role or setting that changed meanwhile makes it fail.
 */
export function rolesThatCan(action: GroupAction, settings: GroupSettings): MemberRole[] {
  return ROLES.filter((role) => can(role, action, null, settings));
}
