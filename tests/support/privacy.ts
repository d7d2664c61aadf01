import { unzipSync } from "fflate";
import { fetchLink, filesUnder, indexOf } from "./media.ts";
import type { TestServer, TestUser } from "./server.ts";
import { eventually } from "./wait.ts";

const encoder = new TextEncoder();

/** Something that must not be found, and how to name it in a failure. */
export interface Needle {
  label: string;
  bytes: Uint8Array;
}

/** A needle for the UTF-8 of `text`. */
export function textNeedle(text: string): Needle {
  return { label: JSON.stringify(text), bytes: encoder.encode(text) };
}

/** Every file under `dir` (database, -wal, -shm, keys, media blobs, export archives) that holds any needle. */
export async function dataDirHits(dir: string, needles: Needle[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    // A file deleted between the listing and the read (an expiry or a scrub at work) holds nothing.
    const bytes = await Deno.readFile(file).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return new Uint8Array();
      throw err;
    });
    for (const n of needles) {
      if (indexOf(bytes, n.bytes) >= 0) hits.push(`${file.slice(dir.length)}: ${n.label}`);
    }
  }
  return hits;
}

/** Gives `user` the global admin role (the role is read from the store on every request). */
export async function makeAdmin(s: TestServer, user: TestUser): Promise<void> {
  await s.parley.store.accounts.updateUser(user.id, { role: "admin" });
}

/** Requests an export and waits (polling the status route) until it is no longer processing. */
export async function exportReady(user: TestUser, timeoutMs = 30_000): Promise<any> {
  const started = await user.client.post("/v1/users/me/export");
  if (started.status !== 202) {
    throw new Error(`export: ${started.status} ${JSON.stringify(started.body)}`);
  }
  const res = await eventually(
    "the export is no longer processing",
    () => user.client.get(`/v1/users/me/export/${started.body.id}`),
    (r) => r.body.status !== "processing",
    { timeoutMs },
  );
  return res.body;
}

/** Downloads an export's archive by its signed link and unzips it (file name → bytes). */
export async function downloadArchive(
  base: string,
  url: string,
): Promise<{ status: number; headers: Headers; files: Record<string, Uint8Array>; size: number }> {
  const res = await fetchLink(base, url);
  if (res.status !== 200) return { status: res.status, headers: res.headers, files: {}, size: 0 };
  return {
    status: res.status,
    headers: res.headers,
    files: unzipSync(res.bytes),
    size: res.bytes.length,
  };
}

/** The JSON objects of a `.jsonl` file. */
export function jsonLines(bytes: Uint8Array | undefined): any[] {
  if (!bytes) throw new Error("no such file in the archive");
  return new TextDecoder().decode(bytes).split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
