import { type Db, read } from "./_db.ts";
import type { Writer } from "./_writer.ts";
import type { WriteArgs, WriteName, WriteResult } from "./_writes.ts";

// deno-lint-ignore no-explicit-any
type ReadFn = (db: Db, ...args: any[]) => unknown;

/** Read functions with the connection bound, answering with settled promises (as the ports do). */
export type BoundReads<F> = {
  [K in keyof F]: F[K] extends (db: Db, ...args: infer A) => infer R ? (...args: A) => Promise<R>
    : never;
};

/** Named writes as methods that run them on the writer thread. */
export type BoundWrites<K extends WriteName> = {
  [N in K]: (...args: WriteArgs<N>) => Promise<WriteResult<N>>;
};

/**
 * An area's read functions (`fn(db, ...args)`) as port methods (`method(...args)`) on the main
 * thread's reading connection; synchronous errors become rejections.
 */
export function bindReads<F extends Record<string, ReadFn>>(db: Db, fns: F): BoundReads<F> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) {
    out[name] = (...args: unknown[]) => read(() => fn(db, ...args));
  }
  return out as BoundReads<F>;
}

/**
 * An area's writes (its entries of `WRITES`, see `_writes.ts`) as port methods that run them on the
 * writer thread, so the event loop never waits on a write lock or an fsync.
 */
export function bindWrites<K extends WriteName>(
  writer: Writer,
  writes: Record<K, unknown>,
): BoundWrites<K> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(writes) as K[]) {
    out[name] = (...args: WriteArgs<K>) => writer.write(name, ...args);
  }
  return out as BoundWrites<K>;
}
