import assert from "node:assert/strict";
import { fetchLink, uploadSettled } from "../support/media.ts";
import { jpeg, mp4, pdf, png, tone } from "../support/media_fixtures.ts";
import { spawnServer } from "../support/process.ts";
import { registerUser, tempDir } from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

Deno.test(
  "the server run with `deno task start`'s permissions processes every kind of media (image codecs, ffmpeg) end to end",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-start-");
    await using server = await spawnServer({ DATA_DIR: dir.path });
    const alice = await registerUser(server.url);
    const fixtures: Array<[string, Uint8Array, string]> = [
      ["image", await jpeg(1200, 800), "photo.jpg"],
      ["image", await png(300, 200), "drawing.png"],
      ["audio", await tone("ogg", 1), "voice.ogg"],
      ["video", await mp4(1), "clip.mp4"],
      ["document", pdf(1), "notes.pdf"],
    ];
    for (const [kind, bytes, filename] of fixtures) {
      const media = await uploadSettled(alice.client, bytes, { filename });
      assert.equal(media.kind, kind, filename);
      assert.equal(media.status, "ready", `${filename}: ${JSON.stringify(media)}`);
      const file = await fetchLink(server.url, media.url);
      assert.equal(file.status, 200, filename);
      assert.ok(file.bytes.length > 0, filename);
    }
    assert.ok(
      !server.lines.some((l) => /--allow-|PermissionDenied|NotCapable/.test(l)),
      server.lines.filter((l) => /allow|Permission|Capable/.test(l)).join("\n"),
    );
  },
);
