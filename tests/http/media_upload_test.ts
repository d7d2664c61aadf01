import assert from "node:assert/strict";
import { jpeg, mp4, noise, office, pdf, plainZip, png } from "../support/media_fixtures.ts";
import { fetchLink, filesUnder, upload, uploadSettled } from "../support/media.ts";
import { assertProblem, registerUser, serverTest, type TestServer } from "../support/server.ts";

const MiB = 1024 * 1024;

/** A lazily produced body: `header` then zeros, `total` bytes; `produced()` says how many were read. */
function lazyBody(header: number[], total: number) {
  let produced = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (produced >= total) return c.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, total - produced));
      if (produced === 0) chunk.set(header);
      produced += chunk.length;
      c.enqueue(chunk);
    },
  });
  return { body, produced: () => produced };
}

/** Files under the media directory, other than the (empty) partial-upload directory. */
async function storedFiles(s: TestServer): Promise<string[]> {
  return await filesUnder(`${s.dataDir}/media`);
}

serverTest(
  "413 payload_too_large as soon as a kind's limit is crossed while streaming; nothing is left",
  {
    env: { MEDIA_MAX_IMAGE_MB: "1", MEDIA_MAX_DOCUMENT_MB: "2" },
  },
  async (s) => {
    const u = await registerUser(s.url);
    const big = lazyBody([0xff, 0xd8, 0xff, 0xe0], 64 * MiB);
    const raw = await upload(u.client, big.body, {
      type: "image/jpeg",
      filename: "huge.jpg",
      multipart: false,
    });
    assertProblem(raw, 413, "payload_too_large");
    assert.match(raw.body.detail, /image may be at most 1 MiB/);
    assert.ok(big.produced() < 32 * MiB, `stopped early (read ${big.produced()} bytes)`);

    const form = new Uint8Array(3 * MiB);
    form.set(new TextEncoder().encode("%PDF-1.4\n"));
    const multipart = await upload(u.client, form, {
      type: "application/pdf",
      filename: "a.pdf",
    });
    assertProblem(multipart, 413, "payload_too_large");
    assert.match(multipart.body.detail, /document may be at most 2 MiB/);

    // Limits are per kind: a 1.5 MiB PDF is fine where images stop at 1 MiB.
    const fits = pdf(1, "x".repeat(1.5 * MiB));
    const ok = await upload(u.client, fits, { type: "application/pdf", filename: "ok.pdf" });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const files = (await storedFiles(s)).filter((f) => !f.includes(ok.body.id));
    assert.deepEqual(files, [], "rejected uploads leave no file behind");
  },
);

serverTest(
  "415 unsupported_media_type for unknown types and for bytes that contradict the declared type",
  async (s) => {
    const u = await registerUser(s.url);
    const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const textThenBinary = new Uint8Array(10_000).fill(0x61);
    textThenBinary[9000] = 0;
    const badUtf8Late = new Uint8Array(10_000).fill(0x62);
    badUtf8Late[8000] = 0xff;
    const cases: Array<[string, Uint8Array, string | undefined, boolean?]> = [
      ["a PDF declared as an image", pdf(1), "image/png"],
      ["a PDF declared as an image (raw body)", pdf(1), "image/png", false],
      ["a JPEG declared as a video", await jpeg(50, 50), "video/mp4"],
      ["a video declared as an image", await mp4(1), "image/jpeg"],
      ["a PNG declared as a PDF", await png(20, 20), "application/pdf"],
      ["a docx declared as xlsx", office("docx"), xlsx],
      ["a docx declared as text", office("docx"), "text/plain", false],
      ["a zip that is not an Office document", plainZip(), "application/zip"],
      ["random bytes", noise(5000), "application/octet-stream"],
      [
        "an ELF executable",
        new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...noise(200)]),
        undefined,
      ],
      ["text with a NUL byte after the first 4 KiB", textThenBinary, "text/plain", false],
      ["text that stops being UTF-8", badUtf8Late, "text/plain", false],
      [
        "a docx declared as a spreadsheet by name and type",
        office("docx"),
        docx.replace("word", "x"),
      ],
    ];
    for (const [what, bytes, type, multipart] of cases) {
      const res = await upload(u.client, bytes, { type, filename: "file", multipart });
      assertProblem(res, 415, "unsupported_media_type");
      assert.ok(res.body.detail, what);
    }
    assert.deepEqual(await storedFiles(s), [], "nothing stored for refused uploads");
    assertProblem(
      await upload(u.client, new Uint8Array(0), { type: "text/plain", multipart: false }),
      400,
      "validation_failed",
    );
    const noFile = await fetch(`${s.url}/v1/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${u.accessToken}` },
      body: (() => {
        const f = new FormData();
        f.append("note", "hello");
        return f;
      })(),
    });
    assert.equal(noFile.status, 400);
    await noFile.body?.cancel();
    const anonymous = await fetch(`${s.url}/v1/media`, {
      method: "POST",
      body: pdf(1) as BodyInit,
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  },
);

serverTest(
  "file names are sanitised and sent back per RFC 6266; uploads without a name get one",
  async (s) => {
    const u = await registerUser(s.url);
    const tricky = '../../etc/pass\u202Egnp.exe\u0007 "quoted" résumé.pdf';
    const m = await uploadSettled(u.client, pdf(1), {
      type: "application/pdf",
      filename: tricky,
      multipart: false,
    });
    assert.equal(m.filename, "pass_gnp.exe_ _quoted_ résumé.pdf");
    const file = await fetchLink(s.url, m.url);
    assert.equal(
      file.headers.get("content-disposition"),
      `attachment; filename="pass_gnp.exe_ _quoted_ r_sum_.pdf"; ` +
        `filename*=UTF-8''pass_gnp.exe_%20_quoted_%20r%C3%A9sum%C3%A9.pdf`,
    );
    const unnamed = await uploadSettled(u.client, await png(10, 10), {
      type: "image/png",
      multipart: false,
    });
    assert.equal(unnamed.filename, "file.png");
    for (const f of await filesUnder(`${s.dataDir}/media`)) {
      assert.ok(
        !f.includes("etc") && !f.includes("pass"),
        `stored under an id, not a name: ${f}`,
      );
    }
    const doc = await (await fetch(`${s.url}/openapi.json`)).json();
    for (const path of ["/v1/media", "/v1/media/{id}", "/v1/media/{id}/content"]) {
      assert.ok(doc.paths[path], `openapi documents ${path}`);
    }
    assert.ok(doc.paths["/v1/media"].post.requestBody.content["multipart/form-data"]);
    assert.ok(doc.components.schemas.Media.properties.waveform);
  },
);

serverTest(
  "an upload cut off mid-stream (raw or multipart) leaves no file and no stuck request",
  async (s) => {
    const u = await registerUser(s.url);
    for (const multipart of [false, true]) {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent++ === 0) {
            c.enqueue(new TextEncoder().encode(
              multipart
                ? `--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n` +
                  `Content-Type: application/pdf\r\n\r\n%PDF-1.4\n`
                : "%PDF-1.4\n",
            ));
          } else if (sent < 20) c.enqueue(new Uint8Array(64 * 1024).fill(0x41));
          else return c.error(new Error("the client gave up"));
          await new Promise((r) => setTimeout(r, 5));
        },
      });
      const type = multipart ? "multipart/form-data; boundary=XyZ" : "application/pdf";
      await fetch(`${s.url}/v1/media`, {
        method: "POST",
        headers: { authorization: `Bearer ${u.accessToken}`, "content-type": type },
        body,
      }).then((r) => r.body?.cancel(), () => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        s.parley.drained().then(() => true),
        new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
      ]);
      clearTimeout(timer);
      assert.ok(drained, `the ${multipart ? "multipart" : "raw"} request ended`);
      assert.deepEqual(await storedFiles(s), []);
    }
    assert.deepEqual(s.logs.filter((l) => l.includes('"unhandled error"')), [], "not a fault");
  },
);
