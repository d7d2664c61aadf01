// Copies the blobs a deployment kept under DATA_DIR (media files, export archives) into the S3
// bucket the S3_* variables name, and verifies each copy byte for byte (SHA-256 of the local file
// against the object read back). Resumable: an object already in the bucket with the same bytes is
// left alone, so a re-run continues where a stopped one ended. Blobs are copied as stored: already
// encrypted by Parley, never decrypted here.
//
//   BLOB_STORE=s3 S3_ENDPOINT=… S3_BUCKET=… S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//     deno task blobs:migrate [--dry-run]
//
// Then restart the servers with BLOB_STORE=s3. The local files are not deleted: remove DATA_DIR/media
// and DATA_DIR/exports yourself once the servers run on the bucket.
import { createSHA256 } from "hash-wasm";
import { ConfigError, loadConfig } from "../src/config.ts";
import { LocalBlobStore } from "../src/media/blob_store.ts";
import type { BlobReader, BlobStore } from "../src/media/blob_store.ts";
import { S3BlobStore, s3Options } from "../src/media/s3_blob_store.ts";

const READ = 4 * 1024 * 1024;

/** What a run did. */
export interface MigrateReport {
  copied: number;
  skipped: number;
  bytes: number;
}

async function sha256(reader: BlobReader): Promise<string> {
  const hash = await createSHA256();
  for (let at = 0; at < reader.size; at += READ) hash.update(await reader.readAt(at, READ));
  return hash.digest("hex");
}

/** Every `<id>/<variant>` key under a local blob directory (partial files are skipped). */
async function localKeys(root: string): Promise<string[]> {
  const keys: string[] = [];
  const entries = async (dir: string) =>
    await Array.fromAsync(Deno.readDir(dir)).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    });
  for (const shard of await entries(root)) {
    if (!shard.isDirectory || shard.name === ".partial") continue;
    for (const id of await entries(`${root}/${shard.name}`)) {
      if (!id.isDirectory) continue;
      for (const variant of await entries(`${root}/${shard.name}/${id.name}`)) {
        if (variant.isFile) keys.push(`${id.name}/${variant.name}`);
      }
    }
  }
  return keys.sort();
}

async function copyOne(from: BlobStore, to: BlobStore, key: string): Promise<number> {
  const source = (await from.open(key))!;
  try {
    const writer = await to.create(key);
    try {
      for (let at = 0; at < source.size; at += READ) {
        await writer.write(await source.readAt(at, READ));
      }
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return source.size;
  } finally {
    source.close();
  }
}

/** Copies and verifies every local blob of `kind` (media, exports) into `bucket`. */
export async function migrateKind(
  root: string,
  bucket: BlobStore,
  options: { dryRun: boolean },
  log: (line: string) => void,
): Promise<MigrateReport> {
  const local = await LocalBlobStore.open(root);
  const report: MigrateReport = { copied: 0, skipped: 0, bytes: 0 };
  for (const key of await localKeys(root)) {
    const source = (await local.open(key))!;
    const want = await sha256(source);
    source.close();
    const present = await bucket.open(key);
    const have = present && present.size === source.size ? await sha256(present) : null;
    present?.close();
    if (have === want) {
      report.skipped++;
      continue;
    }
    if (options.dryRun) {
      log(`would copy ${key} (${source.size} bytes)`);
      report.copied++;
      continue;
    }
    report.bytes += await copyOne(local, bucket, key);
    const copy = await bucket.open(key);
    const got = copy ? await sha256(copy) : null;
    copy?.close();
    if (got !== want) throw new Error(`blobs:migrate: ${key} does not read back the same; stopped`);
    report.copied++;
  }
  return report;
}

if (import.meta.main) {
  try {
    const dryRun = Deno.args.includes("--dry-run");
    const unknown = Deno.args.filter((a) => a !== "--dry-run");
    if (unknown.length) throw new ConfigError(`blobs:migrate: unknown argument ${unknown[0]}`);
    const config = loadConfig(Deno.env.toObject());
    if (config.blobs.store !== "s3") {
      throw new ConfigError(
        "blobs:migrate: set BLOB_STORE=s3 and the S3_* variables of the bucket",
      );
    }
    for (const kind of ["media", "exports"]) {
      const bucket = new S3BlobStore(s3Options(config.blobs.s3, `${kind}/`));
      const r = await migrateKind(`${config.dataDir}/${kind}`, bucket, { dryRun }, console.log);
      console.log(
        `blobs:migrate: ${kind}: ${r.copied} ${dryRun ? "to copy" : "copied and verified"} ` +
          `(${r.bytes} bytes), ${r.skipped} already in the bucket`,
      );
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `blobs:migrate: ${err}`);
    Deno.exit(1);
  }
}
