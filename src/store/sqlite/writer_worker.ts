/// <reference lib="deno.worker" />
// The SQLite writer thread: owns the one connection that writes, so fsync and write locks never
// block the main event loop. Receives batches of changes (group commit) and named writes.
import { commitOne } from "./_commit.ts";
import { Db } from "./_db.ts";
import { errorToWire, fromWire, type WireChange, type WireOutcome } from "./_wire.ts";
import { type WriteName, WRITES } from "./_writes.ts";

type Request =
  | { id: number; op: "open"; path: string; synchronous: "FULL" | "NORMAL" }
  | { id: number; op: "batch"; changes: WireChange[] }
  | { id: number; op: "write"; name: WriteName; args: unknown[] }
  | { id: number; op: "close" };

let db: Db | undefined;

self.onmessage = (e: MessageEvent<Request>) => {
  const req = e.data;
  try {
    switch (req.op) {
      case "open":
        db = new Db(req.path, { synchronous: req.synchronous });
        return self.postMessage({ id: req.id, ok: true });
      case "batch": {
        const outcomes: WireOutcome[] = [];
        db!.transaction(() => {
          for (const change of req.changes) {
            try {
              outcomes.push({
                ok: true,
                value: db!.transaction(() => commitOne(db!, fromWire(change))),
              });
            } catch (err) {
              outcomes.push({ ok: false, error: errorToWire(err) });
            }
          }
        });
        return self.postMessage({ id: req.id, ok: true, value: outcomes });
      }
      case "write": {
        const fn = WRITES[req.name] as (db: Db, ...args: unknown[]) => unknown;
        return self.postMessage({ id: req.id, ok: true, value: fn(db!, ...req.args) });
      }
      case "close":
        db?.close();
        return self.postMessage({ id: req.id, ok: true });
    }
  } catch (err) {
    self.postMessage({ id: req.id, ok: false, error: errorToWire(err) });
  }
};
