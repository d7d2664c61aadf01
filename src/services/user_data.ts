/**
 * A feature that keeps data of its own about a user (scheduled messages, drafts…): that data joins
 * the user's export archive as one JSON-lines file and is removed by their erasure. Registering it
 * with `DataExports` and `AccountErasure` (in `services/mod.ts`) is all a new kind of data needs for
 * both.
 */
export interface UserData {
  /** The file in the export archive, e.g. `scheduled.jsonl` (listed in the archive's README). */
  readonly exportPath: string;
  /** What the file explains in the archive's README (one line). */
  readonly exportDescription: string;
  /** The user's records as they should read them (texts decrypted). */
  exportUser(userId: string): Promise<unknown[]>;
  /** Removes the user's records (after their data keys are destroyed); how many went. */
  eraseUser(userId: string): Promise<number>;
}
