// Conversation export memory: a server (child process) archives a conversation of 1,000 and then one
// of 10,000 messages, both carrying 50 images and one large document; the resident memory is
// sampled every 20 ms while each export is built. Constant memory shows as the same growth for both.
//   deno run -A bench/export_bench.ts [messages] [documentMB]
import { BENCH_ENV, curlUpload, pool, registerMany, round, rssBytes } from "./_lib.ts";
import { spawnServer } from "../tests/support/process.ts";
import { jpeg } from "../tests/support/media_fixtures.ts";
import { settled, upload } from "../tests/support/media.ts";
import type { Client } from "../tests/support/server.ts";

const MB = 1024 * 1024;

export interface ExportFigures {
  messages: number;
  seconds: number;
  archiveMB: number;
  /** Peak resident memory while the export was built, above the memory before it. */
  peakGrowthMB: number;
}

export interface ExportBenchResult {
  documentMB: number;
  images: number;
  small: ExportFigures;
  large: ExportFigures;
}

async function fill(
  client: Client,
  conversationId: string,
  messages: number,
  imageIds: string[],
  documentId: string,
): Promise<void> {
  await pool(messages, 16, async (i) => {
    const mediaIds = i === 0
      ? [documentId]
      : i % Math.floor(messages / imageIds.length) === 1
      ? [imageIds[i % imageIds.length]]
      : [];
    const res = await client.post(`/v1/conversations/${conversationId}/messages`, {
      clientMsgId: `${conversationId}-${i}`,
      text: `Message ${i} of the export benchmark: the quarterly numbers, again and again.`,
      ...(mediaIds.length ? { mediaIds } : {}),
    });
    if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
  });
}

async function measure(pid: number, client: Client, conversationId: string, messages: number) {
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, rssBytes(pid)), 20);
  const started = performance.now();
  const job = await client.post(`/v1/conversations/${conversationId}/export`);
  if (job.status !== 202) throw new Error(`export: ${job.status}`);
  let view = job.body;
  while (view.status === "processing") {
    await new Promise((r) => setTimeout(r, 50));
    view = (await client.get(`/v1/conversations/${conversationId}/export/${job.body.id}`)).body;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (view.status !== "ready") throw new Error(`export ${view.status}: ${view.failureReason}`);
  return {
    messages,
    seconds: round(seconds, 2),
    archiveMB: round(view.size / MB, 1),
    peakGrowthMB: round((peak - before) / MB, 1),
  };
}

export async function runExportBench(
  options: { messages?: number; documentMB?: number } = {},
): Promise<ExportBenchResult> {
  const messages = options.messages ?? 10_000;
  const documentMB = options.documentMB ?? 80;
  const dir = await Deno.makeTempDir({ prefix: "parley-bench-export-" });
  const file = `${dir}/minutes.txt`;
  const line = new TextEncoder().encode("Minutes of the meeting, item by item. ".repeat(26) + "\n");
  using f = await Deno.open(file, { write: true, create: true });
  for (let i = 0; i < (documentMB * MB) / line.length; i++) await f.write(line);
  await using server = await spawnServer({ ...BENCH_ENV, DATA_DIR: dir, LOG_LEVEL: "info" });
  const [owner, member] = await registerMany(server.url, 2);
  const images: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await upload(owner.client, await jpeg(320 + i, 240), { filename: `p${i}.jpg` });
    if (res.status !== 201) throw new Error(`image: ${res.status}`);
    images.push(res.body.id);
  }
  const documentId = await curlUpload(server.url, owner.token, file, {
    type: "text/plain",
    filename: "minutes.txt",
  });
  await settled(owner.client, documentId, 120_000);
  for (const id of images) await settled(owner.client, id, 120_000);
  const group = async (n: number) => {
    const res = await owner.client.post("/v1/conversations", {
      type: "group",
      name: `export ${n}`,
      memberIds: [member.id],
    });
    await fill(owner.client, res.body.id, n, images, documentId);
    return res.body.id as string;
  };
  const smallId = await group(Math.max(1, Math.floor(messages / 10)));
  const largeId = await group(messages);
  const pid = server.child.pid;
  const small = await measure(pid, owner.client, smallId, Math.floor(messages / 10));
  const large = await measure(pid, owner.client, largeId, messages);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return { documentMB, images: images.length, small, large };
}

if (import.meta.main) {
  const [messages, documentMB] = Deno.args.map(Number);
  console.log(
    JSON.stringify(
      await runExportBench({
        messages: messages || undefined,
        documentMB: documentMB || undefined,
      }),
      null,
      2,
    ),
  );
}
