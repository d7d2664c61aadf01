/**
 * The total-queue checker of the chaos run: compares what was acknowledged, what the store holds
 * and what every socket received, and counts each way a chat backend can fail its users.
 */

/** A durable event as `/events` returns it (what is needed of it). */
export interface StoredEvent {
  seq: number;
  event: string;
  /** For `message.created`. */
  messageId?: string;
  clientMsgId?: string | null;
}

/** What one client recorded (see ChaosClient). */
export interface ClientRecord {
  userId: string;
  acks: Array<{ conversationId: string; clientMsgId: string; messageId: string; seq: number }>;
  connections: Array<{ resumeFrom: Record<string, number>; events: Map<string, number[]> }>;
  paged: Map<string, Set<number>>;
  startSeq: Map<string, number>;
  refusals: Array<{ clientMsgId: string; code: string; detail: string }>;
  givenUp: number;
}

export interface ChaosInput {
  /** Conversation id → its members' user ids (membership does not change during the run). */
  members: Map<string, Set<string>>;
  stored: Map<string, StoredEvent[]>;
  clients: ClientRecord[];
}

export interface Verdict {
  acknowledged: number;
  storedMessages: number;
  delivered: number;
  /** Acknowledged, but not in the store (or stored under another id or seq). */
  lost: number;
  /** Stored twice for one clientMsgId, or one seq delivered twice to one connection. */
  duplicated: number;
  /** A connection's seqs out of order, or a sender's messages stored out of its sending order. */
  reordered: number;
  /** Stored events a member's client never received (after all faults healed). */
  gaps: number;
  /** Events delivered to a user who is not a member. */
  leaked: number;
  /** Sends refused with a code retrying cannot fix, or abandoned without an ack. */
  refused: number;
  unacknowledged: number;
  /** The first few findings, readable. */
  findings: string[];
}

export function check(input: ChaosInput): Verdict {
  const findings: string[] = [];
  const note = (text: string) => findings.length < 20 && findings.push(text);
  let lost = 0, duplicated = 0, reordered = 0, gaps = 0, leaked = 0, delivered = 0;

  // Messages in the store, by clientMsgId.
  const byClientId = new Map<string, StoredEvent[]>();
  let storedMessages = 0;
  for (const [conversationId, events] of input.stored) {
    for (const e of events) {
      if (e.event !== "message.created" || !e.clientMsgId) continue;
      storedMessages++;
      const key = `${conversationId}/${e.clientMsgId}`;
      byClientId.set(key, [...byClientId.get(key) ?? [], e]);
    }
  }
  for (const [key, list] of byClientId) {
    if (list.length > 1) {
      duplicated += list.length - 1;
      note(`${key} stored ${list.length} times (seqs ${list.map((e) => e.seq).join(", ")})`);
    }
  }

  let acknowledged = 0;
  for (const client of input.clients) {
    const acked = new Map<string, { messageId: string; seq: number }>();
    const lastSeqSent = new Map<string, number>();
    for (const a of client.acks) {
      acknowledged++;
      const key = `${a.conversationId}/${a.clientMsgId}`;
      const earlier = acked.get(key);
      if (earlier && earlier.messageId !== a.messageId) {
        duplicated++;
        note(`${key} acknowledged as two messages`);
      }
      acked.set(key, a);
      const stored = byClientId.get(key)?.[0];
      if (!stored || stored.messageId !== a.messageId || stored.seq !== a.seq) {
        lost++;
        note(
          `${key} acknowledged (seq ${a.seq}) but ${
            stored ? `stored as seq ${stored.seq}` : "not stored"
          }`,
        );
      }
      // One send at a time per client: its messages must be stored in the order it sent them.
      const previous = lastSeqSent.get(a.conversationId) ?? 0;
      if (a.seq <= previous) {
        reordered++;
        note(`${client.userId}'s ${a.clientMsgId} has seq ${a.seq}, after one with ${previous}`);
      }
      lastSeqSent.set(a.conversationId, Math.max(previous, a.seq));
    }

    const covered = new Map<string, Set<number>>();
    for (const [conversationId, seqs] of client.paged) {
      covered.set(conversationId, new Set(seqs));
    }
    client.connections.forEach((connection, n) => {
      for (const [conversationId, seqs] of connection.events) {
        delivered += seqs.length;
        if (!input.members.get(conversationId)?.has(client.userId)) {
          leaked += seqs.length;
          note(
            `${client.userId} (not a member) received ${seqs.length} events of ${conversationId}`,
          );
          continue;
        }
        const set = covered.get(conversationId) ?? new Set<number>();
        covered.set(conversationId, set);
        const floor = connection.resumeFrom[conversationId] ??
          client.startSeq.get(conversationId) ?? 0;
        const seen = new Set<number>();
        let previous = floor;
        for (const seq of seqs) {
          if (seen.has(seq) || seq <= floor) {
            duplicated++;
            note(`${client.userId} connection ${n}: seq ${seq} of ${conversationId} again`);
          } else if (seq < previous) {
            reordered++;
            note(
              `${client.userId} connection ${n}: seq ${seq} after ${previous} in ${conversationId}`,
            );
          }
          seen.add(seq);
          set.add(seq);
          previous = Math.max(previous, seq);
        }
      }
    });

    for (const [conversationId, members] of input.members) {
      if (!members.has(client.userId)) continue;
      const from = client.startSeq.get(conversationId) ?? 0;
      const got = covered.get(conversationId) ?? new Set<number>();
      const missing = (input.stored.get(conversationId) ?? [])
        .filter((e) => e.seq > from && !got.has(e.seq)).map((e) => e.seq);
      if (missing.length) {
        gaps += missing.length;
        note(
          `${client.userId} never received seqs ${missing.slice(0, 8).join(", ")}${
            missing.length > 8 ? "…" : ""
          } of ${conversationId}`,
        );
      }
    }
    for (const r of client.refusals) {
      note(`${client.userId}'s ${r.clientMsgId} refused: ${r.code} ${r.detail}`);
    }
  }

  const refused = input.clients.reduce((n, c) => n + c.refusals.length, 0);
  const unacknowledged = input.clients.reduce((n, c) => n + c.givenUp, 0);
  if (unacknowledged) note(`${unacknowledged} sends never acknowledged`);
  return {
    acknowledged,
    storedMessages,
    delivered,
    lost,
    duplicated,
    reordered,
    gaps,
    leaked,
    refused,
    unacknowledged,
    findings,
  };
}

/** Whether nothing went wrong. */
export function clean(v: Verdict): boolean {
  return v.lost + v.duplicated + v.reordered + v.gaps + v.leaked + v.refused + v.unacknowledged ===
    0;
}
