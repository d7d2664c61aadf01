import { conflict, forbidden, validationFailed } from "../domain/errors.ts";
import { can, type GroupAction } from "../domain/permissions.ts";
import type {
  Conversation,
  GroupSettings,
  Member,
  MemberRole,
  SystemInfo,
} from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { AccountStore, Change, Expectation, Mutation } from "../store/store.ts";
import type { EventLog } from "./events.ts";

/** What committing and publishing a conversation change uses. */
export interface ChangePorts {
  events: EventLog;
}

/** One change to a conversation with its event and the system message saying who did what. */
export interface ConversationChange {
  conversationId: string;
  actorId: string;
  event: Change["event"];
  mutations: Mutation[];
  data: Record<string, unknown>;
  system: SystemInfo;
  /** The roles the change was decided on; a concurrent change to them makes the commit fail. */
  expect: Expectation[];
}

const STALE = () => conflict("The group changed while this was being decided; try again");

/**
 * Commits `change` atomically with its event and system message, then publishes the event. A change
 * the store reports as not committed publishes nothing.
 */
export async function commitChange(ports: ChangePorts, change: ConversationChange): Promise<void> {
  await ports.events.commit({ ...change, messageId: newId(), at: nowIso() });
}

/**
 * Deletes a group in one `conversation.deleted` event, provided `actorId` is still its owner: its
 * owner deletes it, or leaves as its last member (`reason` says why).
 */
export async function deleteAsOwner(
  ports: ChangePorts,
  options: { conversationId: string; actorId: string; reason?: string },
): Promise<void> {
  const { conversationId, actorId, reason } = options;
  await commitChange(ports, {
    conversationId,
    actorId,
    event: "conversation.deleted",
    mutations: [{ op: "deleteConversation", at: nowIso() }],
    data: reason ? { actorId, reason } : { actorId },
    system: { action: "conversation.deleted", actorId },
    expect: [expectRole(actorId, "owner")],
  });
}

/** Expects `userId` to still be a member with `role` when the change commits; 409 otherwise. */
export function expectRole(userId: string, role: MemberRole): Expectation {
  return { kind: "member", userId, roles: [role], error: STALE() };
}

/** Throws 403 unless `role` may take `action` (on a member ranked `target`), as {@link can} decides. */
export function requirePermission(
  role: MemberRole,
  action: GroupAction,
  target: MemberRole | null,
  settings: GroupSettings,
): void {
  if (!can(role, action, target, settings)) {
    throw forbidden(`Your role (${role}) may not do this`);
  }
}

/** The caller's membership when the conversation is a group; 403 for a direct conversation. */
export function requireGroup<T extends { conversation: Conversation }>(membership: T): T {
  if (membership.conversation.type !== "group") {
    throw forbidden("Direct conversations have no members to manage");
  }
  return membership;
}

/** Throws 400 on `field` unless every id names an existing, not erased user. */
export async function checkUsers(
  accounts: AccountStore,
  ids: string[],
  options: { field: string },
): Promise<void> {
  const found = new Set(
    (await accounts.getUsers(ids)).filter((u) => !u.deletedAt).map((u) => u.id),
  );
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length) {
    throw validationFailed([{
      path: options.field,
      message: `unknown users: ${unknown.slice(0, 10).join(", ")}`,
    }]);
  }
}

/** A new member of `conversationId` as it joins: nothing read or delivered yet, not muted or archived. */
export function newMember(
  conversationId: string,
  joining: { userId: string; role: MemberRole; joinedAt: string },
): Member {
  return {
    conversationId,
    userId: joining.userId,
    role: joining.role,
    joinedAt: joining.joinedAt,
    readSeq: 0,
    deliveredSeq: 0,
    muted: false,
    mutedUntil: null,
    archived: false,
    silencedUntil: null,
  };
}
