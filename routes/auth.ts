import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import type { AuthGrant } from "../src/services/auth.ts";
import type { AppEnv } from "./_env.ts";
import { requestMeta, requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, problems, router } from "./_openapi.ts";
import { AuthResultSchema } from "./_schemas.ts";
import type { Context } from "hono";

const Register = z.strictObject({
  username: z.string().regex(
    /^[A-Za-z0-9_.]{3,32}$/,
    "must be 3-32 characters of a-z, 0-9, _ and .",
  )
    .openapi({ example: "alice", description: "Stored in lower case; unique" }),
  password: z.string().min(8, "must be at least 8 characters").max(1024).openapi({
    example: "correct horse battery staple",
    description: "8 to 256 characters (Unicode code points); no composition rules",
  }),
  displayName: z.string().max(256).optional(),
  deviceName: z.string().max(256).optional(),
}).openapi("RegisterRequest");

const Login = z.strictObject({
  username: z.string().max(64),
  password: z.string().max(1024),
  deviceName: z.string().max(256).optional(),
}).openapi("LoginRequest");

const Refresh = z.strictObject({ refreshToken: z.string().min(1).max(256) }).openapi(
  "RefreshRequest",
);

/** The responses of a route that answers with a session's tokens, and its errors. */
function granting<S extends 200 | 201>(status: S, description: string, ...errors: number[]) {
  const ok = { [status]: jsonResponse(AuthResultSchema, description) } as Record<
    S,
    ReturnType<typeof jsonResponse<typeof AuthResultSchema>>
  >;
  return { ...problems(...errors), ...ok };
}

/** Registration, login, token refresh and logout. */
export function authRoutes(services: Services) {
  const r = router();
  /** Answers with a session's tokens and the caller's profile (and logs who they are). */
  const granted = async <S extends 200 | 201>(c: Context<AppEnv>, g: AuthGrant, status: S) => {
    c.set("userId", g.user.id);
    const body = {
      user: await services.users.meView(g.user),
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
      expiresIn: g.expiresIn,
    };
    return c.json(body, status);
  };

  r.openapi(
    createRoute({
      method: "post",
      path: "/auth/register",
      operationId: "register",
      tags: ["Accounts"],
      summary: "Create an account and its first session",
      security: [],
      request: { body: jsonBody(Register) },
      responses: granting(201, "Account created", 400, 409, 413, 415, 429, 503),
    }),
    async (c) => granted(c, await services.auth.register(c.req.valid("json"), requestMeta(c)), 201),
  );

  r.openapi(
    createRoute({
      method: "post",
      path: "/auth/login",
      operationId: "login",
      tags: ["Accounts"],
      summary: "Log in with username and password",
      security: [],
      description: "Unknown user and wrong password give the same 401 in the same time. " +
        "Repeated failures are rate limited per account and per address (429 with Retry-After). " +
        "A suspended account, with the right password, gets 403 `suspended`; 503 while the " +
        "rate limiter's store is unreachable.",
      request: { body: jsonBody(Login) },
      responses: granting(200, "Logged in", 400, 401, 403, 413, 415, 429, 503),
    }),
    async (c) => granted(c, await services.auth.login(c.req.valid("json"), requestMeta(c)), 200),
  );

  r.openapi(
    createRoute({
      method: "post",
      path: "/auth/refresh",
      operationId: "refreshToken",
      tags: ["Accounts"],
      summary: "Exchange a refresh token for a new pair",
      security: [],
      description:
        "Refresh tokens rotate. Presenting one that was already used revokes the whole " +
        "session (401): somebody else has a copy.",
      request: { body: jsonBody(Refresh) },
      responses: granting(200, "New tokens", 400, 401, 413, 415),
    }),
    async (c) => {
      const { refreshToken } = c.req.valid("json");
      return granted(c, await services.auth.refresh(refreshToken, requestMeta(c)), 200);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: "/auth/logout",
      operationId: "logout",
      tags: ["Accounts"],
      summary: "Revoke the current session",
      description: "Its access token stops working on the next request and its WebSockets close.",
      security: bearer,
      middleware: [requireAuth(services.auth)] as const,
      responses: { 204: { description: "Logged out" }, ...problems(401) },
    }),
    async (c) => {
      await services.auth.logout(c.get("actor"));
      return c.body(null, 204);
    },
  );

  return r;
}
