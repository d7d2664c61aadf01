import S3rver from "s3rver";
import type { S3Options } from "../../src/media/s3_blob_store.ts";

/** A file-backed S3-compatible server (s3rver) on a free loopback port, with one bucket. */
export interface TestS3 extends AsyncDisposable {
  endpoint: string;
  /** Where s3rver keeps the objects (to scan for plaintext). */
  directory: string;
  bucket: string;
  /** Options for an `S3BlobStore` on this bucket (path-style, s3rver's fixed credentials). */
  options(prefix?: string): S3Options;
  /** The variables that point an instance at this bucket. */
  env: Record<string, string>;
  /** Stops the server (the bucket is "down"); its objects stay. */
  down(): Promise<void>;
  /** Starts it again on the same port and directory. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = await Deno.makeTempDir({ prefix: "parley-s3-" });
  const bucket = "parley-test";
  const make = (port: number) =>
    new S3rver({
      port,
      address: "127.0.0.1",
      directory,
      silent: true,
      configureBuckets: [{ name: bucket }],
    });
  let server: InstanceType<typeof S3rver> | null = make(0);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const down = async () => {
    await server?.close();
    server = null;
  };
  const up = async () => {
    server = make(port);
    await server.run();
  };
  const close = async () => {
    await down();
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  };
  return {
    endpoint,
    directory,
    bucket,
    options: (prefix = "") => ({
      endpoint,
      region: "us-east-1",
      bucket,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
      timeoutMs: 10_000,
      prefix,
    }),
    env: {
      BLOB_STORE: "s3",
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
    },
    down,
    up,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A real bucket for the contract suite, from `S3_TEST_*` variables, or null when they are unset. */
export function realBucket(): S3Options | null {
  const e = (name: string) => Deno.env.get(`S3_TEST_${name}`);
  const [endpoint, bucket, accessKeyId, secretAccessKey] = [
    e("ENDPOINT"),
    e("BUCKET"),
    e("ACCESS_KEY_ID"),
    e("SECRET_ACCESS_KEY"),
  ];
  if (!endpoint || !bucket || !accessKeyId || !secretAccessKey) return null;
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    region: e("REGION") ?? "auto",
    forcePathStyle: e("FORCE_PATH_STYLE") === "true",
    timeoutMs: 30_000,
    prefix: `parley-contract-${crypto.randomUUID().slice(0, 8)}/`,
  };
}
