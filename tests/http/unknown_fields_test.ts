// Cross-cutting rule of the contract: a body field a route does not know is a 400
// `validation_failed` naming it, on every route (read from the live OpenAPI document, so a new
// route is covered without touching this file), in socket frames and in multipart uploads.
import assert from "node:assert/strict";
import { assertProblem, registerUser, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const UNKNOWN = "zzNotAField";

serverTest("every JSON-body route rejects an unknown field with 400 naming it", async (s) => {
  const u = await registerUser(s.url);
  // An administrator, so admin routes judge the body instead of refusing the caller.
  await s.parley.store.accounts.updateUser(u.id, { role: "admin" });
  const doc = (await u.client.get("/openapi.json")).body;
  const checked: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op.requestBody?.content?.["application/json"]) continue;
      const url = path.replace(/\{[^}]+\}/g, "x1");
      const schema = op.requestBody.content["application/json"].schema;
      const body = { ...discriminators(doc, schema), [UNKNOWN]: true };
      const res = await u.client.request(method.toUpperCase(), url, body);
      assertProblem(res, 400, "validation_failed");
      assert.ok(
        res.body.errors.some((e: { path: string }) => e.path === UNKNOWN),
        `${method} ${path}: ${JSON.stringify(res.body.errors)}`,
      );
      checked.push(`${method} ${path}`);
    }
  }
  assert.ok(checked.length >= 15, `routes with JSON bodies: ${checked.join(", ")}`);
});

/**
 * The enum or const fields a body needs before anything else is judged (a discriminated union's
 * `type`), taken from the first variant.
 */
function discriminators(doc: any, schema: any): Record<string, unknown> {
  if (schema?.$ref) schema = doc.components.schemas[schema.$ref.split("/").at(-1)];
  if (schema?.oneOf || schema?.anyOf) return discriminators(doc, (schema.oneOf ?? schema.anyOf)[0]);
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries((schema?.properties ?? {}) as Record<string, any>)) {
    if (prop.const !== undefined) out[name] = prop.const;
    else if (prop.enum?.length === 1) out[name] = prop.enum[0];
  }
  return out;
}

serverTest("a nested unknown field is named by its path", async (s) => {
  const u = await registerUser(s.url);
  const res = await u.client.patch("/v1/users/me", { privacy: { lastSeen: "nobody", colour: 1 } });
  assertProblem(res, 400, "validation_failed");
  assert.deepEqual(res.body.errors, [{ path: "privacy.colour", message: "unknown field" }]);
  assert.equal((await u.client.get("/v1/users/me")).body.privacy.lastSeen, "everyone", "unchanged");
});

serverTest("a socket frame with an unknown field gets an error ack naming it", async (s) => {
  const u = await registerUser(s.url);
  const ws = await WsClient.connect(s.url, u.accessToken);
  const ack = await ws.request({ type: "ping", [UNKNOWN]: 1 });
  assert.equal(ack.ok, false);
  assert.equal(ack.error.code, "validation_failed");
  assert.deepEqual(ack.error.errors, [{ path: UNKNOWN, message: "unknown field" }]);
  assert.equal((await ws.request({ type: "ping" })).ok, true, "the socket goes on");
  await ws.close();
});

serverTest("a multipart upload with an unknown part is refused naming it", async (s) => {
  const u = await registerUser(s.url);
  const form = new FormData();
  form.append(UNKNOWN, "x");
  form.append("file", new Blob([new TextEncoder().encode("%PDF-1.4\n%%EOF\n")]), "a.pdf");
  const res = await fetch(`${s.url}/v1/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${u.accessToken}` },
    body: form,
  });
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.equal(body.code, "validation_failed");
  assert.equal(body.errors[0].path, UNKNOWN);
});
