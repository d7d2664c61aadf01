import type { Actor, RequestMeta } from "../domain/actor.ts";
import { forbidden, notFound } from "../domain/errors.ts";
import type { GlobalRole, User } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";

/**
 * Administration: who is an administrator, and changing a user's global role (audited). The role is
 * read from the store on every check, not from the token, so a demotion takes effect at once.
 */
export class AdminService {
  constructor(
    private readonly deps: { store: Pick<Store, "accounts">; audit: AuditLog },
  ) {}

  /** Throws 403 unless the caller is a live administrator. */
  async requireAdmin(actor: Actor): Promise<void> {
    const user = await this.deps.store.accounts.getUser(actor.userId);
    if (!user || user.deletedAt || user.role !== "admin") throw forbidden("Administrators only");
  }

  /** Sets `userId`'s global role (404 for an unknown or erased user); a real change is audited. */
  async setRole(actor: Actor, userId: string, role: GlobalRole, meta: RequestMeta): Promise<User> {
    await this.requireAdmin(actor);
    const before = await this.deps.store.accounts.getUser(userId);
    if (!before || before.deletedAt) throw notFound("User not found");
    if (before.role === role) return before;
    const updated = await this.deps.store.accounts.updateUser(userId, { role });
    if (updated.status !== "updated") throw notFound("User not found");
    await this.deps.audit.record({
      action: "user.role_changed",
      actorId: actor.userId,
      targetId: userId,
      meta,
      details: { from: before.role, to: role },
    });
    return updated.user;
  }
}
