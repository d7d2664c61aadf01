import { LocalBlobStore } from "../../src/media/blob_store.ts";
import { S3BlobStore } from "../../src/media/s3_blob_store.ts";
import { realBucket, startS3 } from "../support/s3.ts";
import { tempDir } from "../support/server.ts";
import { blobStoreContract } from "./_blob_store_contract.ts";

// The blob-store contract against every adapter: the local directory, an S3-compatible server
// started here (s3rver), and a real bucket when S3_TEST_* variables name one.

blobStoreContract((name, fn) =>
  Deno.test(`local blobs: ${name}`, async () => {
    await using dir = await tempDir("parley-blobs-");
    await fn(await LocalBlobStore.open(dir.path));
  })
);

blobStoreContract((name, fn) =>
  // s3rver is a Node HTTP server: its sockets outlive a request, so resources are not sanitized.
  Deno.test({
    name: `s3 blobs (s3rver): ${name}`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      await using s3 = await startS3();
      await fn(new S3BlobStore(s3.options("media/")));
    },
  })
);

const real = realBucket();
if (!real) {
  console.log(
    "blob store: real-bucket contract skipped (set S3_TEST_ENDPOINT, S3_TEST_BUCKET, ...)",
  );
}
blobStoreContract((name, fn) =>
  Deno.test({
    name: `s3 blobs (S3_TEST bucket): ${name}`,
    ignore: !real,
    fn: async () => await fn(new S3BlobStore(real!)),
  })
);
