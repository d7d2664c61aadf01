import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { AppError } from "../../src/domain/errors.ts";
import { Db, read } from "../../src/store/sqlite/_db.ts";
import { errorFromWire, errorToWire } from "../../src/store/sqlite/_wire.ts";
import { tempDir } from "../support/server.ts";

Deno.test("a lock held past the busy timeout by another process is a 503 with Retry-After", async () => {
  await using dir = await tempDir("parley-busy-");
  const path = `${dir.path}/x.db`;
  const db = new Db(path, { synchronous: "FULL", busyTimeoutMs: 100 });
  db.raw.exec("CREATE TABLE t (x INTEGER)");
  // Another connection (another instance sharing the file) holds the write lock and stalls.
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE");
  try {
    const err = await read(() => db.run("INSERT INTO t (x) VALUES (1)")).catch((e) => e);
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.code, "unavailable");
    assert.equal(err.extra.retryAfterSeconds, 2);
    // A write that failed the same way on the writer thread comes back as the same 503.
    const viaWire = errorFromWire(errorToWire(new Error("database is locked")));
    assert.ok(viaWire instanceof AppError && viaWire.status === 503);
    // Other errors are left alone.
    const other500 = errorFromWire(errorToWire(new Error("no such table: nope")));
    assert.ok(!(other500 instanceof AppError));
  } finally {
    other.exec("ROLLBACK");
    other.close();
    db.close();
  }
});
