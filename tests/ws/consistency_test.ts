import assert from "node:assert/strict";
import fc from "fast-check";
import { applyEvent, fetchState, type State } from "../support/event_state.ts";
import { registerUser, serverTest, type TestUser } from "../support/server.ts";
import { type Frame, WsClient } from "../support/ws.ts";

type Action =
  | { kind: "send"; by: number; text: string }
  | { kind: "edit"; by: number; pick: number; text: string }
  | { kind: "delete"; by: number; pick: number }
  | { kind: "react"; by: number; pick: number; emoji: string; add: boolean }
  | { kind: "rename"; name: string }
  | { kind: "role"; target: number; role: "moderator" | "member" }
  | { kind: "typing"; by: number };

const EMOJI = ["👍", "🎉", "👍🏽", "🇫🇷", "❤️"];
const text = fc.string({ minLength: 1, maxLength: 40 }).filter((t) =>
  t.trim().length > 0 && !/\p{Cc}/u.test(t)
);
const who = fc.integer({ min: 0, max: 2 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), by: who, text }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("edit" as const), by: who, pick: fc.nat(), text }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("delete" as const), by: who, pick: fc.nat() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("react" as const),
      by: who,
      pick: fc.nat(),
      emoji: fc.constantFrom(...EMOJI),
      add: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rename" as const), name: text }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("role" as const),
      target: fc.integer({ min: 1, max: 2 }),
      role: fc.constantFrom("moderator" as const, "member" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("typing" as const), by: who }) },
);

serverTest(
  "model-based: for any sequence of actions, each member's state plus the events its socket " +
    "received equals a fresh fetch (Zulip's verify_action over the WebSocket)",
  { env: { WS_FRAMES_PER_SECOND: "1000", WS_FRAMES_BURST: "1000" } },
  async (s) => {
    const users: TestUser[] = await Promise.all([0, 1, 2].map(() => registerUser(s.url)));
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
        const [owner, ...rest] = users;
        const g = (await owner.client.post("/v1/conversations", {
          type: "group",
          name: "model",
          memberIds: rest.map((u) => u.id),
        })).body;
        const sockets = await Promise.all(
          users.map((u) => WsClient.connect(s.url, u.accessToken)),
        );
        const before: State[] = await Promise.all(users.map((u) => fetchState(u, g.id)));
        const mine: string[][] = [[], [], []];
        let n = 0;
        for (const a of actions) {
          const ws = sockets["by" in a ? a.by : 0];
          switch (a.kind) {
            case "send": {
              const ack = await ws.request({
                type: "message.send",
                conversationId: g.id,
                clientMsgId: `c${n++}`,
                text: a.text,
              });
              if (ack.ok) mine[a.by].push(ack.message.id);
              break;
            }
            case "edit":
            case "delete": {
              const own = mine[a.by];
              if (own.length === 0) break;
              const messageId = own[a.pick % own.length];
              await ws.request(
                a.kind === "edit"
                  ? { type: "message.edit", conversationId: g.id, messageId, text: a.text }
                  : { type: "message.delete", conversationId: g.id, messageId, for: "everyone" },
              );
              break;
            }
            case "react": {
              const all = mine.flat();
              if (all.length === 0) break;
              await ws.request({
                type: a.add ? "reaction.add" : "reaction.remove",
                conversationId: g.id,
                messageId: all[a.pick % all.length],
                emoji: a.emoji,
              });
              break;
            }
            case "rename":
              await owner.client.patch(`/v1/conversations/${g.id}`, { name: a.name });
              break;
            case "role":
              await owner.client.patch(
                `/v1/conversations/${g.id}/members/${users[a.target].id}`,
                { role: a.role },
              );
              break;
            case "typing":
              await ws.request({ type: "typing", conversationId: g.id, state: "start" });
              break;
          }
        }
        const head = (await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq;
        for (let i = 0; i < users.length; i++) {
          const ws = sockets[i];
          if (head > before[i].lastSeq) {
            await ws.next((f) => f.type === "event" && f.conversationId === g.id && f.seq === head);
          }
          const durable = ws.events(g.id).filter((f: Frame) =>
            f.seq !== undefined && f.seq > before[i].lastSeq
          );
          assert.deepEqual(
            durable.map((f) => f.seq),
            [...new Set(durable.map((f) => f.seq))],
            "no duplicates",
          );
          const applied = durable.reduce((state, e) => applyEvent(state, e), before[i]);
          assert.deepEqual(applied, await fetchState(users[i], g.id), `member ${i}'s view`);
        }
        await Promise.all(sockets.map((w) => w.close()));
      }),
      { numRuns: 12 },
    );
  },
);
