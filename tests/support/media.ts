import { type Client, type Reply } from "./server.ts";
import { eventually } from "./wait.ts";

/** How to send an upload: multipart (`file` field) or the raw body with `?filename=`. */
export interface UploadOptions {
  type?: string;
  filename?: string;
  multipart?: boolean;
}

/** Uploads `bytes` as `client`'s user. */
export async function upload(
  client: Client,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
  options: UploadOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${client.token}` };
  let body: BodyInit;
  let query = "";
  if (options.multipart !== false && bytes instanceof Uint8Array) {
    const form = new FormData();
    form.append(
      "file",
      new Blob([bytes as BlobPart], { type: options.type ?? "" }),
      options.filename ?? "upload.bin",
    );
    body = form;
  } else {
    if (options.type) headers["content-type"] = options.type;
    if (options.filename) query = `?filename=${encodeURIComponent(options.filename)}`;
    body = bytes as BodyInit;
  }
  const res = await fetch(`${client.base}/v1/media${query}`, { method: "POST", headers, body });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text && (res.headers.get("content-type") ?? "").includes("json")
      ? JSON.parse(text)
      : text,
  };
}

/** Polls `GET /v1/media/:id` until the item is no longer processing; returns it. */
export async function settled(client: Client, id: string, timeoutMs = 60_000): Promise<any> {
  const res = await eventually(
    `media ${id} is no longer processing`,
    () => client.get(`/v1/media/${id}`),
    (r) => r.status !== 200 || r.body.status !== "processing",
    { timeoutMs, everyMs: 100 },
  );
  if (res.status !== 200) throw new Error(`GET media ${id}: ${res.status}`);
  return res.body;
}

/** Uploads and waits until processing is over; asserts the upload itself was accepted. */
export async function uploadSettled(
  client: Client,
  bytes: Uint8Array,
  options: UploadOptions = {},
): Promise<any> {
  const res = await upload(client, bytes, options);
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(res.body)}`);
  return await settled(client, res.body.id);
}

/** Fetches a signed link (relative or absolute) without credentials. */
export async function fetchLink(
  base: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const res = await fetch(url.startsWith("http") ? url : base + url, { headers });
  return {
    status: res.status,
    headers: res.headers,
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

/** The offset of `needle` in `haystack`, or -1. */
export function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Every file under `dir`, recursively. A directory the server removes while this walks (a media
 * item being deleted) is simply not there any more.
 */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) out.push(...await filesUnder(path));
      else if (entry.isFile) out.push(path);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}
