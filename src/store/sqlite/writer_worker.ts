/// <reference lib="deno.worker" />
// The SQLite writer thread: owns the one connection that writes, so fsync and write locks never
// block the main event loop. Receives batches of changes (group commit) and named writes.
import { commitOne } from "./_commit.ts";
import { Db } from "./_db.ts";
import { errorToWire, fromWire, type WireChange, type WireOutcome } from "./_wire.ts";
import { WORKER_READS, type WorkerReadName, type WriteName, WRITES } from "./_writes.ts";

type Request =
  | { id: number; op: "open"; path: string; synchronous: "FULL" | "NORMAL"; database?: string }
  | { id: number; op: "read"; name: WorkerReadName; args: unknown[] }
  | { id: number; op: "batch"; changes: WireChange[] }
  | { id: number; op: "write"; name: WriteName; args: unknown[] }
  | { id: number; op: "close" };

let db: Db | undefined;
/** A read connection to the main database, for reads that join it with this thread's file. */
let database: Db | undefined;

self.onmessage = (e: MessageEvent<Request>) => {
  const req = e.data;
  try {
    switch (req.op) {
      case "open":
        db = new Db(req.path, { synchronous: req.synchronous });
        if (req.database) database = new Db(req.database, { synchronous: "NORMAL" });
        return self.postMessage({ id: req.id, ok: true });
      case "read": {
        const fn = WORKER_READS[req.name] as (db: Db, database: Db, ...args: unknown[]) => unknown;
        return self.postMessage({ id: req.id, ok: true, value: fn(db!, database!, ...req.args) });
      }
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
        database?.close();
        return self.postMessage({ id: req.id, ok: true });
    }
  } catch (err) {
    self.postMessage({ id: req.id, ok: false, error: errorToWire(err) });
  }
};
