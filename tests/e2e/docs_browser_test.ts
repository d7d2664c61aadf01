import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { hasChromium, launch, OUTPUT } from "./_browser.ts";

const available = hasChromium();
if (!available) {
  console.log("e2e: skipped: no Chromium at /usr/bin/chromium (apt-get install chromium)");
}

Deno.test({
  name: "/docs renders the API reference in Chromium with no request leaving the origin",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using s = await startServer();
    await using browser = await launch();
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${s.url}/docs`, { waitUntil: "networkidle" });
    await page.waitForSelector(".swagger-ui .opblock-tag", { timeout: 20_000 });
    const tags = await page.locator(".opblock-tag").allTextContents();
    assert.ok(tags.some((t) => t.includes("Messages")), `tags: ${tags.join(", ")}`);
    assert.ok(await page.locator(".opblock").count() > 50, "every operation is listed");
    await Deno.mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: `${OUTPUT}docs.png`, fullPage: false });
    const elsewhere = requests.filter((u) => !u.startsWith(s.url) && !u.startsWith("data:"));
    assert.deepEqual(elsewhere, [], "nothing leaves the origin");
    assert.deepEqual(errors, []);
    console.log(
      `e2e: screenshot at ${OUTPUT}docs.png (${requests.length} requests, all same-origin)`,
    );
  },
});
