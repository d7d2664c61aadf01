/** Writes one blob; nothing is visible under its key until {@link BlobWriter.commit}. */
export interface BlobWriter {
  /** Appends `chunk` (copied or written out before the promise settles: the caller may reuse it). */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the blob visible under its key, replacing any previous one, atomically. */
  commit(): Promise<void>;
  /** Throws away what was written; the key is left as it was. */
  abort(): Promise<void>;
}

/** Random access to one stored blob. */
export interface BlobReader {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (fewer only past the end). */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  close(): void;
}

/**
 * Where media bytes live (already encrypted by the caller). Keys are `<id>/<variant>` made of
 * `[A-Za-z0-9_-]` only: client file names never reach a path. Adapters: the local directory below,
 * an S3-compatible bucket later.
 */
export interface BlobStore {
  readonly kind: string;
  create(key: string): Promise<BlobWriter>;
  /** A reader, or null when there is no such blob. */
  open(key: string): Promise<BlobReader | null>;
  /** Removes the blob; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,32}$/;

/** Throws unless `key` is a valid blob key. */
export function checkBlobKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
}

const PARTIAL_MAX_AGE_MS = 3600_000;

/**
 * {@link BlobStore} on a local directory: `<root>/<2-char shard>/<id>/<variant>`. Blobs are written
 * under `<root>/.partial/` and renamed into place on commit, so a crash leaves no half-written blob
 * in place; partial files older than an hour (from a crash) are removed when the store opens.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = "local";

  private constructor(readonly root: string) {}

  /** Opens (creating) the directory and clears partial files a crash left behind. */
  static async open(root: string): Promise<LocalBlobStore> {
    await Deno.mkdir(`${root}/.partial`, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for await (const entry of Deno.readDir(`${root}/.partial`)) {
      const path = `${root}/.partial/${entry.name}`;
      const info = await Deno.stat(path).catch(() => null);
      if (info && now - (info.mtime?.getTime() ?? 0) > PARTIAL_MAX_AGE_MS) {
        await Deno.remove(path).catch(() => {});
      }
    }
    return new LocalBlobStore(root);
  }

  #path(key: string): string {
    checkBlobKey(key);
    return `${this.root}/${key.slice(0, 2)}/${key}`;
  }

  async create(key: string): Promise<BlobWriter> {
    const target = this.#path(key);
    const partial = `${this.root}/.partial/${crypto.randomUUID()}`;
    const file = await Deno.open(partial, { write: true, createNew: true, mode: 0o600 });
    let closed = false;
    const close = () => {
      if (!closed) file.close();
      closed = true;
    };
    return {
      async write(chunk) {
        let at = 0;
        while (at < chunk.length) at += await file.write(chunk.subarray(at));
      },
      async commit() {
        await file.sync();
        close();
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
          recursive: true,
          mode: 0o700,
        });
        await Deno.rename(partial, target);
      },
      async abort() {
        close();
        await Deno.remove(partial).catch(() => {});
      },
    };
  }

  async open(key: string): Promise<BlobReader | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(key), { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    const { size } = await file.stat();
    return {
      size,
      async readAt(offset, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        await file.seek(offset, Deno.SeekMode.Start);
        let at = 0;
        while (at < out.length) {
          const n = await file.read(out.subarray(at));
          if (n === null) break;
          at += n;
        }
        return out.subarray(0, at);
      },
      close: () => file.close(),
    };
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    await Deno.remove(path).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    // The item's directory goes with its last variant.
    await Deno.remove(path.slice(0, path.lastIndexOf("/"))).catch(() => {});
  }
}
