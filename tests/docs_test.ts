import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { startFlags } from "./support/process.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("the README configuration table lists every variable Parley reads, and no other", () => {
  const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Deployment"));
  const documented = [...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...CONFIG_VARIABLES].sort());
});

Deno.test("the README gives the two set-up commands and the test command CI runs", () => {
  assert.match(readme, /npx -y deno@2\.9\.6 task dev/);
  assert.match(readme, /npx -y deno@2\.9\.6 task test/);
  assert.match(readme, /deno task test/);
});

Deno.test("`deno task dev` and the Docker image run with exactly `deno task start`'s permissions", async () => {
  const start = await startFlags();
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks;
  const dev = tasks.dev.command.split(/\s+/).filter((w: string) => w.startsWith("--allow"));
  assert.deepEqual(dev, start);
  const dockerfile = await Deno.readTextFile(new URL("../Dockerfile", import.meta.url));
  const cmd: string[] = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]);
  assert.deepEqual(cmd.filter((w) => w.startsWith("--allow")), start);
});
