// Helpers for the conversation and message tests (tests/http/conversations_*, messages_*).
import assert from "node:assert/strict";
import { createGroup, type Reply, type TestUser } from "./server.ts";

/** An ISO 8601 timestamp in UTC with milliseconds, as the API writes them. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Opens (or reopens) the direct conversation of `a` with `b`; returns its id. */
export async function direct(a: TestUser, b: TestUser): Promise<string> {
  const res = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body.id;
}

/** Creates a group owned by `owner` with `members`; returns its id. */
export async function group(owner: TestUser, members: TestUser[], name = "Team"): Promise<string> {
  return (await createGroup(owner, name, members)).id;
}

let nextId = 0;
function cmid(): string {
  return `cmid-${Date.now().toString(36)}-${nextId++}`;
}

/** Posts a message with a fresh `clientMsgId` plus `body`; returns the reply, whatever it is. */
export async function send(
  u: TestUser,
  conv: string,
  body: Record<string, unknown>,
): Promise<Reply> {
  return await u.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: cmid(),
    ...body,
  });
}

/** Sends a text message, asserts 201 and returns the stored message. */
export async function sendOk(u: TestUser, conv: string, text: string): Promise<any> {
  const res = await send(u, conv, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

/** Every message of a conversation as `u` sees it, paging backwards with `before`. */
export async function allMessages(u: TestUser, conv: string, limit = 7): Promise<any[]> {
  const out: any[] = [];
  let before: number | undefined;
  for (;;) {
    const q = before === undefined ? `limit=${limit}` : `limit=${limit}&before=${before}`;
    const res = await u.client.get(`/v1/conversations/${conv}/messages?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.unshift(...res.body.messages);
    if (!res.body.hasMore) return out;
    before = res.body.messages[0].seq;
  }
}

/** The messages of `list` that people sent (no system messages). */
export function userMessages(list: any[]): any[] {
  return list.filter((m) => m.kind !== "system");
}

/** The field paths of a validation problem's errors. */
export function errorPaths(res: Reply): string[] {
  return (res.body.errors ?? []).map((e: { path: string }) => e.path);
}

/** `user`'s conversation list (`query` such as `?archived=true`), asserting 200. */
export async function list(user: TestUser, query = ""): Promise<any[]> {
  const res = await user.client.get(`/v1/conversations${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.conversations;
}

/** The conversation `id` as it appears in `user`'s list (asserting it does). */
export async function listed(user: TestUser, id: string): Promise<any> {
  const item = (await list(user)).find((c) => c.id === id);
  assert.ok(item, `${id} is in the list`);
  return item;
}

/** Every durable event of a conversation after `after`, following `hasMore`. */
export async function allEvents(
  user: TestUser,
  id: string,
  after = 0,
  limit = 200,
): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const res = await user.client.get(
      `/v1/conversations/${id}/events?after=${after}&limit=${limit}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(...res.body.events);
    if (!res.body.hasMore) return out;
    after = res.body.events.at(-1).seq;
  }
}

/**
 * Resolves once the clock has moved past `iso`, so the next server timestamp is strictly later.
 * Activity order and join order have millisecond resolution; this makes them unambiguous.
 */
export async function pastMillisecond(iso: string): Promise<void> {
  const t = Date.parse(iso);
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

/** The ids of `conversations`, in order. */
export function ids(conversations: Array<{ id: string }>): string[] {
  return conversations.map((c) => c.id);
}
