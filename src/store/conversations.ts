import type {
  Conversation,
  DurableEventName,
  Member,
  MessageRecord,
  SystemInfo,
} from "../domain/types.ts";

/** One row of a user's conversation list, with their membership and the latest message. */
export interface ConversationListItem {
  conversation: Conversation;
  member: Member;
  lastMessage: MessageRecord | null;
  unreadCount: number;
  /**
   * Unread messages (after the read marker, not the user's own) that mention them by name or
   * everyone; a message doing both counts once.
   */
  unreadMentionCount: number;
  /** For direct conversations: the other participant. */
  peerId: string | null;
}

/** Position in a member list: (joinedAt, userId) of the last member seen. */
export interface MemberCursor {
  joinedAt: string;
  userId: string;
}

/** Cursor position in a conversation list: (updatedAt, id) of the last row seen. */
export interface ListCursor {
  updatedAt: string;
  id: string;
}

/** A member's own settings for a conversation. */
export interface MemberStatePatch {
  muted?: boolean;
  mutedUntil?: string | null;
  archived?: boolean;
}

/**
 * A new conversation with its first members, its first event (seq 1) and the system message that
 * event points at, all chosen by the service.
 */
export interface NewConversation {
  conversation: Conversation;
  members: Member[];
  /** For direct conversations: the unique key of the pair, so there is only ever one. */
  directKey?: string;
  event: { event: DurableEventName; actorId: string; data: Record<string, unknown> };
  systemMessageId: string;
  system: SystemInfo;
}

/**
 * The other user named by a direct conversation's pair key (`a:b`, the two ids sorted), or null
 * without a key. Adapters use it so a direct conversation still names a peer who left (an erased
 * account).
 */
export function directPeer(directKey: string | null, userId: string): string | null {
  if (!directKey) return null;
  const [a, b] = directKey.split(":");
  return a === userId ? b : a;
}

/**
 * Conversations and their members as they are now (changes to them commit through the log).
 * Part of {@link import("./store.ts").Store}. There is at most one direct conversation per pair of
 * users.
 */
export interface ConversationStore {
  /** Creates the conversation with its first event; for an existing direct pair, returns that one. */
  createConversation(
    input: NewConversation,
  ): Promise<{ conversation: Conversation; created: boolean }>;
  getConversation(id: string): Promise<Conversation | null>;
  getMember(conversationId: string, userId: string): Promise<Member | null>;
  /** The members among `userIds` (non-members left out), in no particular order. */
  getMembers(conversationId: string, userIds: string[]): Promise<Member[]>;
  /** Members ordered by join time, then user id, after the cursor position. */
  listMembers(
    conversationId: string,
    options: { limit: number; after?: MemberCursor },
  ): Promise<Member[]>;
  /** The ids of every member of a conversation. */
  memberIds(conversationId: string): Promise<string[]>;
  /** Users who share at least one conversation with `userId` (not including them). */
  contactIds(userId: string): Promise<string[]>;
  sharesConversation(a: string, b: string): Promise<boolean>;
  listConversations(
    userId: string,
    options: { archived: boolean; limit: number; cursor?: ListCursor },
  ): Promise<ConversationListItem[]>;
  /** One conversation as it appears in `userId`'s list; null unless they are a member. */
  conversationItem(userId: string, conversationId: string): Promise<ConversationListItem | null>;
  setMemberState(
    conversationId: string,
    userId: string,
    patch: MemberStatePatch,
  ): Promise<Member | null>;
}
