// Keeps docs/ARCHITECTURE.md's layering claims true: reads every production import and checks who may
// import whom, and that the layers form no cycle.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

/** Every production module (repo-relative path) with the repo-relative modules it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(root + dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) graph.set(path, await importsOf(path));
    }
  };
  for (const dir of ["src", "routes", "realtime"]) await walk(dir);
  graph.set("main.ts", await importsOf("main.ts"));
  return graph;
}

async function importsOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(root + path);
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?["'](\.{1,2}\/[^"']+)["']/g),
  ]
    .map((m) => m[1]);
  return specifiers.map((s) => new URL(s, `file:///${path}`).pathname.slice(1));
}

/** The layer a module belongs to, lowest first in {@link ORDER}. */
function layer(path: string): string {
  if (path.startsWith("src/domain/")) return "domain";
  if (path.startsWith("src/store/")) return "store";
  if (path.startsWith("src/services/")) return "services";
  if (path.startsWith("routes/") || path.startsWith("realtime/")) return "edges";
  if (path === "src/app.ts" || path === "main.ts") return "root";
  return "support"; // config, crypto, media, observability, other ports and their adapters
}

const ORDER = ["domain", "support", "store", "services", "edges", "root"];

Deno.test("no edge (routes/, realtime/) imports a store, an adapter or the composition root", async () => {
  for (const [from, targets] of await importGraph()) {
    if (layer(from) !== "edges") continue;
    for (const to of targets) {
      assert.ok(!to.startsWith("src/store/"), `${from} imports ${to}`);
      assert.ok(to !== "src/app.ts", `${from} imports ${to}`);
      for (const adapter of ["/memory.ts", "/redis.ts", "/sqlite/", "/mongo/"]) {
        assert.ok(!to.includes(adapter), `${from} imports the adapter ${to}`);
      }
    }
  }
});

Deno.test("only the composition root imports routes/ and realtime/", async () => {
  for (const [from, targets] of await importGraph()) {
    if (layer(from) === "edges" || from === "src/app.ts") continue;
    const edge = targets.find((t) => layer(t) === "edges");
    assert.equal(edge, undefined, `${from} imports ${edge}`);
  }
});

Deno.test("the domain is pure: it imports only the domain", async () => {
  for (const [from, targets] of await importGraph()) {
    if (layer(from) !== "domain") continue;
    for (const to of targets) {
      assert.ok(
        layer(to) === "domain",
        `${from} imports ${to}`,
      );
    }
  }
});

Deno.test("layers only import layers below them: no import cycle between layers", async () => {
  const offending: string[] = [];
  for (const [from, targets] of await importGraph()) {
    for (const to of targets) {
      const a = ORDER.indexOf(layer(from));
      const b = ORDER.indexOf(layer(to));
      // Support modules (ports and adapters other than the store) may lean on the store's types.
      const allowed = b <= a || (layer(from) === "support" && layer(to) === "store");
      if (!allowed) offending.push(`${from} (${layer(from)}) → ${to} (${layer(to)})`);
    }
  }
  assert.deepEqual(offending, []);
});

Deno.test("EventLog is the only caller of the store's log.commit (commit → render → publish)", async () => {
  const callers: string[] = [];
  for (const path of (await importGraph()).keys()) {
    if (path.startsWith("src/store/")) continue;
    const text = await Deno.readTextFile(root + path);
    if (/\blog\.commit\(/.test(text)) callers.push(path);
  }
  // The read-cache wrapper forwards the store's own commit; it is part of the store it wraps.
  assert.deepEqual(callers.sort(), ["src/cache/invalidating_store.ts", "src/services/events.ts"]);
});
