import type { AccountStore } from "./accounts.ts";
import type { ArchiveStore } from "./archive.ts";
import type { ActivityStore } from "./activity.ts";
import type { AuditStore } from "./audit.ts";
import type { ConversationStore } from "./conversations.ts";
import type { DraftStore } from "./drafts.ts";
import type { ExportStore } from "./exports.ts";
import type { JobStore } from "./jobs.ts";
import type { LogStore } from "./log.ts";
import type { MediaStore } from "./media.ts";
import type { MessageStore } from "./messages.ts";
import type { ModerationStore } from "./moderation.ts";
import type { PrivacyStore } from "./privacy.ts";
import type { PushStore } from "./push.ts";
import type { SearchStore } from "./search.ts";
import type { ScheduledStore } from "./scheduled.ts";

export type * from "./accounts.ts";
export type * from "./archive.ts";
export type * from "./activity.ts";
export type * from "./audit.ts";
export type * from "./conversations.ts";
export type * from "./drafts.ts";
export type * from "./exports.ts";
export type * from "./jobs.ts";
export type * from "./log.ts";
export type * from "./media.ts";
export type * from "./moderation.ts";
export type * from "./messages.ts";
export type * from "./privacy.ts";
export type * from "./push.ts";
export type * from "./search.ts";
export type * from "./scheduled.ts";
export { directPeer } from "./conversations.ts";

/**
 * The durable state of Parley, as sub-stores by area (the way Mattermost's store is split). Each
 * sub-port states its own guarantees; every adapter passes the contract suite of each
 * (`tests/store/store_contract.ts`). Services take only the sub-stores they use
 * (`Pick<Store, "accounts" | "log">`).
 */
export interface Store {
  readonly kind: "sqlite" | "mongo";
  readonly accounts: AccountStore;
  readonly conversations: ConversationStore;
  readonly log: LogStore;
  readonly messages: MessageStore;
  readonly media: MediaStore;
  readonly audit: AuditStore;
  readonly privacy: PrivacyStore;
  readonly exports: ExportStore;
  readonly activity: ActivityStore;
  readonly jobs: JobStore;
  readonly scheduled: ScheduledStore;
  readonly drafts: DraftStore;
  readonly moderation: ModerationStore;
  readonly push: PushStore;
  readonly search: SearchStore;
  readonly archive: ArchiveStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}
