import type { Actor } from "../src/domain/actor.ts";

/** Per-request variables set by Parley's middleware. */
export interface Variables {
  requestId: string;
  clientIp: string;
  actor: Actor;
  /** Set when a route authenticates, so the request log names the user. */
  userId?: string;
}

/** The Hono environment of every Parley router. */
export type AppEnv = { Variables: Variables; Bindings: { remoteAddr?: Deno.NetAddr } };
