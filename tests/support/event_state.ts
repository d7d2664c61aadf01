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
  reactions: Array<{ emoji: string; count: number; me: boolean }>;
}

export interface State {
  lastSeq: number;
  messages: MessageState[];
  members: Array<{ userId: string; role: string }>;
  conversation: { name: string | null; description: string | null; settings: unknown };
  /** Pinned message ids, newest pin first. */
  pins: string[];
}

export function messageState(m: any): MessageState {
  const out: MessageState = { id: m.id, seq: m.seq, kind: m.kind, reactions: m.reactions };
  if (m.text !== undefined) out.text = m.text;
  if (m.deletedAt !== undefined) out.deletedAt = m.deletedAt;
  if (m.expiresAt !== undefined) out.expiresAt = m.expiresAt;
  if (m.poll !== undefined) out.poll = m.poll;
  return out;
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
  const replace = (m: MessageState) => {
    const i = s.messages.findIndex((x) => x.id === m.id);
    assert.ok(i >= 0, `${e.event} for a known message`);
    s.messages[i] = m;
  };
  switch (e.event) {
    case "message.created":
      s.messages.push(messageState(d));
      break;
    case "message.updated":
      replace(messageState(d));
      break;
    case "message.deleted":
      replace(messageState(d));
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
