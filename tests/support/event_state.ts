/**
 * A client-side model of one conversation (messages, members, info) fetched over REST, and a reducer
 * that applies durable events to it the way a client would. Event-consistency tests check that
 * state + applied events equals a fresh fetch.
 */
import assert from "node:assert/strict";
import type { TestUser } from "./server.ts";

export interface MessageState {
  id: string;
  seq: number;
  kind: string;
  text?: string;
  deletedAt?: string;
  expiresAt?: string;
  poll?: unknown;
  threadId?: string;
  alsoInConversation?: boolean;
  thread?: { replyCount: number; lastReplyAt: string; participantIds: string[] };
  reactions: Array<{ emoji: string; count: number; me: boolean }>;
}

export interface State {
  lastSeq: number;
  messages: MessageState[];
  members: Array<{ userId: string; role: string }>;
  conversation: { name: string | null; description: string | null; settings: unknown };
  /** Pinned message ids, newest pin first. */
  pins: string[];
  /** The replies of each thread whose root is in `messages`, by root id. */
  threads: Record<string, MessageState[]>;
}

export function messageState(m: any): MessageState {
  const out: MessageState = { id: m.id, seq: m.seq, kind: m.kind, reactions: m.reactions };
  if (m.text !== undefined) out.text = m.text;
  if (m.deletedAt !== undefined) out.deletedAt = m.deletedAt;
  if (m.expiresAt !== undefined) out.expiresAt = m.expiresAt;
  if (m.poll !== undefined) out.poll = m.poll;
  if (m.threadId !== undefined) out.threadId = m.threadId;
  if (m.alsoInConversation !== undefined) out.alsoInConversation = m.alsoInConversation;
  if (m.thread !== undefined) out.thread = m.thread;
  return out;
}

/** A message as a client keeps it when an event replaces it: events carry no root summary. */
function replaced(old: MessageState, m: any): MessageState {
  assert.equal(m.thread, undefined, "events carry no thread summary");
  const next = messageState(m);
  if (old.thread) next.thread = old.thread;
  return next;
}

async function fetchReplies(u: TestUser, conv: string, rootId: string): Promise<MessageState[]> {
  const out: any[] = [];
  for (let after = 0;;) {
    const res = await u.client.get(
      `/v1/conversations/${conv}/threads/${rootId}/messages?after=${after}&limit=200`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(...res.body.messages);
    if (!res.body.hasMore) return out.map(messageState);
    after = res.body.messages.at(-1).seq;
  }
}

export function sortMembers(members: State["members"]): State["members"] {
  return [...members].sort((a, b) => a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
}

export async function fetchState(u: TestUser, conv: string): Promise<State> {
  const messages: any[] = [];
  for (let after = 0;;) {
    const res = await u.client.get(`/v1/conversations/${conv}/messages?after=${after}&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    messages.push(...res.body.messages);
    if (!res.body.hasMore) break;
    after = res.body.messages.at(-1).seq;
  }
  const members = await u.client.get(`/v1/conversations/${conv}/members?limit=200`);
  assert.equal(members.status, 200);
  assert.equal(members.body.nextCursor, undefined);
  const c = await u.client.get(`/v1/conversations/${conv}`);
  assert.equal(c.status, 200);
  const pins = await u.client.get(`/v1/conversations/${conv}/pins`);
  assert.equal(pins.status, 200);
  const threads: State["threads"] = {};
  for (const m of messages) {
    if (m.thread) threads[m.id] = await fetchReplies(u, conv, m.id);
  }
  return {
    lastSeq: c.body.lastSeq,
    messages: messages.map(messageState),
    members: sortMembers(
      members.body.members.map((m: any) => ({ userId: m.userId, role: m.role })),
    ),
    conversation: {
      name: c.body.name,
      description: c.body.description,
      settings: c.body.settings,
    },
    pins: pins.body.pins.map((p: any) => p.message.id),
    threads,
  };
}

function setRoles(members: State["members"], changed: Array<{ userId: string; role: string }>) {
  return members.map((m) => {
    const c = changed.find((x) => x.userId === m.userId);
    return c ? { ...m, role: c.role } : m;
  });
}

/** Applies one durable event, as a client would, to a copy of `state`. */
export function applyEvent(state: State, e: any): State {
  const s: State = structuredClone(state);
  assert.ok(e.seq > s.lastSeq, `event ${e.event} at ${e.seq} comes after ${s.lastSeq}`);
  s.lastSeq = e.seq;
  const d = e.data;
  /** Replaces a message wherever the client shows it: the main history, its thread or both. */
  const replace = (m: any) => {
    const i = s.messages.findIndex((x) => x.id === m.id);
    if (i >= 0) s.messages[i] = replaced(s.messages[i], m);
    const replies = m.threadId ? s.threads[m.threadId] : undefined;
    const j = replies ? replies.findIndex((x) => x.id === m.id) : -1;
    if (j >= 0) replies![j] = replaced(replies![j], m);
    assert.ok(i >= 0 || j >= 0, `${e.event} for a known message`);
  };
  switch (e.event) {
    case "message.created":
      assert.equal(d.thread, undefined, "events carry no thread summary");
      if (d.threadId) {
        const root = s.messages.find((x) => x.id === d.threadId);
        assert.ok(root, "a reply to a root in the history");
        const t = root.thread ??
          { replyCount: 0, lastReplyAt: d.createdAt, participantIds: [] as string[] };
        root.thread = {
          replyCount: t.replyCount + 1,
          lastReplyAt: d.createdAt,
          participantIds: t.participantIds.includes(d.senderId)
            ? t.participantIds
            : [...t.participantIds, d.senderId],
        };
        (s.threads[d.threadId] ??= []).push(messageState(d));
        if (d.alsoInConversation) s.messages.push(messageState(d));
      } else s.messages.push(messageState(d));
      break;
    case "message.updated":
      replace(d);
      break;
    case "message.deleted":
      replace(d);
      // A message deleted for everyone is unpinned.
      s.pins = s.pins.filter((id) => id !== d.id);
      break;
    case "pin.updated":
      s.pins = [...(d.pinned ? [d.messageId] : []), ...s.pins.filter((id) => id !== d.messageId)];
      break;
    case "reaction.updated": {
      const m = s.messages.find((x) => x.id === d.messageId);
      assert.ok(m, "reaction.updated for a known message");
      m.reactions = d.reactions;
      break;
    }
    case "member.added":
      s.members = sortMembers([
        ...s.members,
        ...d.members.map((m: any) => ({ userId: m.userId, role: m.role })),
      ]);
      break;
    case "member.removed":
      s.members = setRoles(s.members.filter((m) => m.userId !== d.userId), d.members ?? []);
      break;
    case "member.updated":
      s.members = setRoles(s.members, d.members);
      break;
    case "conversation.updated":
      for (const key of ["name", "description", "settings"] as const) {
        if (key in d.changes) (s.conversation as any)[key] = d.changes[key];
      }
      break;
    default:
      assert.fail(`unexpected event ${e.event}`);
  }
  if (d.message) s.messages.push(messageState(d.message));
  return s;
}
