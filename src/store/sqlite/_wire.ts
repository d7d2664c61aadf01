import { AppError } from "../../domain/errors.ts";
import { whenBusy } from "./_db.ts";
import type { Change, CommitResult } from "../store.ts";

/** A change as it crosses to the writer thread: expectation errors become their index. */
export type WireChange = Omit<Change, "expect"> & {
  expect?: Array<Omit<NonNullable<Change["expect"]>[number], "error"> & { error: number }>;
};

/** An error as it comes back from the writer thread. */
export type WireError =
  | { kind: "expectation"; index: number }
  | {
    kind: "app";
    status: number;
    code: string;
    title: string;
    detail: string;
    extra: AppError["extra"];
  }
  | { kind: "other"; name: string; message: string };

export type WireOutcome = { ok: true; value: CommitResult } | { ok: false; error: WireError };

/** Raised on the writer thread when an expectation fails; carries which one. */
export class ExpectationFailed extends Error {
  constructor(readonly index: number) {
    super(`expectation ${index} failed`);
  }
}

export function toWire(change: Change): WireChange {
  return {
    ...change,
    expect: change.expect?.map((e, index) => ({ ...e, error: index })),
  } as WireChange;
}

export function fromWire(change: WireChange): Change {
  return {
    ...change,
    expect: change.expect?.map((e) => ({ ...e, error: new ExpectationFailed(e.error) })),
  } as unknown as Change;
}

export function errorToWire(err: unknown): WireError {
  if (err instanceof ExpectationFailed) return { kind: "expectation", index: err.index };
  if (err instanceof AppError) {
    return {
      kind: "app",
      status: err.status,
      code: err.code,
      title: err.title,
      detail: err.message,
      extra: err.extra,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: "other", name: e.name, message: e.message };
}

/** Rebuilds the error thrown on the writer thread; `change` supplies expectation errors. */
export function errorFromWire(w: WireError, change?: Change): unknown {
  if (w.kind === "expectation") return change!.expect![w.index].error;
  if (w.kind === "app") return new AppError(w.status, w.code, w.title, w.detail, w.extra);
  const e = new Error(w.message);
  e.name = w.name;
  return whenBusy(e);
}
