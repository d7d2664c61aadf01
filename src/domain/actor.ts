import type { GlobalRole } from "./types.ts";

/** The authenticated caller of a request or socket: the user, their session (= device) and role. */
export interface Actor {
  userId: string;
  sessionId: string;
  role: GlobalRole;
}

/** Where a request came from, for rate limits, sessions and the audit log. */
export interface RequestMeta {
  ip: string;
  userAgent?: string;
}
