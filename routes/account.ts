import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requestMeta, requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, problems, router } from "./_openapi.ts";

const PasswordChange = z.strictObject({
  currentPassword: z.string().max(1024),
  newPassword: z.string().max(1024).openapi({ description: "8–256 characters" }),
}).openapi("PasswordChange");

const Erasure = z.strictObject({
  password: z.string().max(1024).openapi({ description: "Your current password, re-entered" }),
}).openapi("AccountErasure");

const WRONG_PASSWORD = "A wrong password is `403 forbidden` (audited); repeated failures count " +
  "against the account like failed logins (`429` with Retry-After).";

/** Password change and account erasure (both need the current password). */
export function accountRoutes(services: Services) {
  const r = router();
  const auth = requireAuth(services.auth);

  r.openapi(
    createRoute({
      method: "post",
      path: "/users/me/password",
      operationId: "changePassword",
      tags: ["Accounts"],
      summary: "Change your password",
      description: "Every other session is revoked (its sockets close); this one stays signed " +
        "in. Audited as `password.changed`. " + WRONG_PASSWORD,
      security: bearer,
      middleware: [auth] as const,
      request: { body: jsonBody(PasswordChange) },
      responses: { 204: { description: "Changed" }, ...problems(400, 401, 403, 413, 415, 429) },
    }),
    async (c) => {
      await services.security.changePassword(
        c.get("actor"),
        c.req.valid("json"),
        requestMeta(c),
      );
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: "/users/me",
      operationId: "deleteAccount",
      tags: ["Accounts"],
      summary: "Erase your account and your data (GDPR art. 17)",
      description: "Revokes every session at once (sockets close with 4001), destroys your data " +
        "keys (crypto-shredding: every copy of your messages and files, backups included, becomes " +
        "unreadable), frees your username, removes profile, avatar, media, reactions, exports and " +
        "memberships (ownership passes on as when an owner leaves) and turns every message you sent " +
        "into a tombstone, so others' history keeps its shape; you then show as \"Deleted " +
        'account". Irreversible. Audited as `user.erased` (counts only). ' + WRONG_PASSWORD,
      security: bearer,
      middleware: [auth] as const,
      request: { body: jsonBody(Erasure) },
      responses: { 204: { description: "Erased" }, ...problems(400, 401, 403, 413, 415, 429) },
    }),
    async (c) => {
      await services.erasure.erase(c.get("actor"), c.req.valid("json").password, requestMeta(c));
      return c.body(null, 204);
    },
  );

  return r;
}
