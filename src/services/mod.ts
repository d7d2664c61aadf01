import type { Broker } from "../broker/broker.ts";
import type { ReadThrough } from "../cache/read_through.ts";
import type { Config } from "../config.ts";
import { DataKeys, Keyring } from "../crypto/envelope.ts";
import type { Keys } from "../crypto/keys.ts";
import { PasswordHasher } from "../crypto/passwords.ts";
import { TokenService } from "../crypto/tokens.ts";
import type { ActivityLedger } from "../activity/activity.ts";
import type { BlobStore } from "../media/blob_store.ts";
import { EncryptedBlobs } from "../media/encrypted_blobs.ts";
import { ImagePool, imageWorkerCount } from "../media/image_pool.ts";
import { UrlSigner } from "../media/signed_url.ts";
import type { RateLimiter } from "../limits/rate_limit.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { PresenceRegistry } from "../presence/presence.ts";
import type { Store } from "../store/store.ts";
import { AccountSecurity } from "./account_security.ts";
import { ActivityService } from "./activity.ts";
import { AdminService } from "./admin.ts";
import { AuditLog } from "./audit.ts";
import { AuthService } from "./auth.ts";
import { ConversationMembers } from "./conversation_members.ts";
import { ConversationViews } from "./conversation_views.ts";
import { ConversationsService } from "./conversations.ts";
import { LegalHolds } from "./legal_holds.ts";
import { LoopLag } from "../limits/loop_lag.ts";
import { DataExports } from "./data_exports.ts";
import { AccountErasure } from "./erasure.ts";
import { EventLog } from "./events.ts";
import { HotReads } from "./hot_reads.ts";
import { MediaService } from "./media.ts";
import { MediaJobs } from "./media_jobs.ts";
import { MessagesService } from "./messages.ts";
import { Notices } from "./notices.ts";
import { PresenceService } from "./presence.ts";
import { Publisher } from "./publisher.ts";
import { ReceiptsService } from "./receipts.ts";
import { MessageRenderer } from "./render.ts";
import { SessionGuard } from "./session_guard.ts";
import { PrivacySweeper } from "./sweeper.ts";
import { TypingService } from "./typing.ts";
import { UsersService } from "./users.ts";
import { ScheduledMessages } from "./scheduled.ts";
import { MessageExpiry } from "./expiry.ts";
import { PinsService } from "./pins.ts";
import { DraftsService } from "./drafts.ts";
import { EditHistory } from "./edit_history.ts";
import { MentionsFeed } from "./mentions.ts";
import { PollsService } from "./polls.ts";
import { ThreadsService } from "./threads.ts";
import { BlocksService } from "./blocks.ts";
import { InvitationsService, ReachPolicy } from "./reach.ts";
import { SendRules } from "./send_rules.ts";
import { ReportsService } from "./reports.ts";
import { InviteLinks } from "./invite_links.ts";
import { SiteModeration } from "./site_moderation.ts";
import { GroupModeration } from "./group_moderation.ts";
import { registerPollClosing } from "./poll_close.ts";
import { JobRunner } from "../jobs/runner.ts";
import { OutboundClient } from "../net/outbound.ts";
import { pushProviders } from "../push/mod.ts";
import { loadVapidKeys } from "../push/vapid.ts";
import { PushService } from "./push.ts";
import { PushDelivery } from "./push_delivery.ts";
import { SearchService } from "./search.ts";
import { SearchIndexer } from "./search_index.ts";
import { SearchTokens } from "./search_tokens.ts";

/**
 * The use cases of one instance: all the edges (routes, realtime) ever see. No store, publisher,
 * keys, hasher or renderer is in here: an edge that needs something new asks a service for it.
 */
export interface Services {
  auth: AuthService;
  security: AccountSecurity;
  users: UsersService;
  presence: PresenceService;
  admin: AdminService;
  audit: AuditLog;
  activity: ActivityService;
  conversations: ConversationsService;
  members: ConversationMembers;
  messages: MessagesService;
  scheduled: ScheduledMessages;
  pins: PinsService;
  drafts: DraftsService;
  editHistory: EditHistory;
  mentions: MentionsFeed;
  polls: PollsService;
  threads: ThreadsService;
  blocks: BlocksService;
  invitations: InvitationsService;
  reports: ReportsService;
  inviteLinks: InviteLinks;
  groupModeration: GroupModeration;
  siteModeration: SiteModeration;
  receipts: ReceiptsService;
  push: PushService;
  search: SearchService;
  typing: TypingService;
  media: MediaService;
  exports: DataExports;
  holds: LegalHolds;
  erasure: AccountErasure;
  sweeper: PrivacySweeper;
}

/** The adapters the composition root chose, which the services are wired to. */
export interface ServicePorts {
  config: Config;
  keys: Keys;
  store: Store;
  broker: Broker;
  limiter: RateLimiter;
  registry: PresenceRegistry;
  ledger: ActivityLedger;
  /** The read cache; absent when caching is off. */
  reads?: ReadThrough;
  /** Where encrypted media chunks and export archives are kept. */
  blobs: { media: BlobStore; exports: BlobStore };
  logger: Logger;
  metrics: MetricsRegistry;
}

/** The wired services with what the composition root still needs: the event log and the lifecycle. */
export interface ServiceLayer {
  services: Services;
  /** The conversation event log (the realtime hub delivers from it). */
  events: EventLog;
  /** The publisher the hub listens to for this instance's own events. */
  publisher: Publisher;
  /** Starts background work: media recovery, export expiry, retention sweeps, engagement flushes. */
  start(): Promise<void>;
  /** Stops background work and flushes what is pending; the adapters are the caller's to close. */
  close(): Promise<void>;
}

/**
 * Wires every service to the given ports. Choosing the ports is the composition root's job
 * (`src/app.ts`); this only connects use cases to each other and to them.
 */
export async function createServices(ports: ServicePorts): Promise<ServiceLayer> {
  const { config, keys, store, logger, metrics, limiter } = ports;
  const activity = new ActivityService({ ledger: ports.ledger, metrics, logger });
  const publisher = new Publisher(ports.broker, config.instanceId, logger, metrics);
  // Polls every 250 ms: a job another instance enqueued (or took over) runs well within a second.
  const runner = new JobRunner({
    store,
    instanceId: config.instanceId,
    logger,
    metrics,
    pollMs: 250,
  });
  const notices = new Notices(publisher);
  const guard = new SessionGuard(store, publisher);
  await guard.start();
  const hasher = new PasswordHasher(config.auth.argon2, config.auth.passwordWorkers);
  const tokens = new TokenService(
    keys.jwt,
    config.publicUrl ?? "parley",
    config.auth.accessTokenTtlSeconds,
  );
  const dataKeys = new DataKeys(
    store,
    new Keyring(keys.encryption.keys, keys.encryption.activeKeyId),
  );
  const audit = new AuditLog(store, logger);
  const admin = new AdminService({ store, audit });
  const presence = new PresenceService({ store, registry: ports.registry, notices, logger });
  const blobs = new EncryptedBlobs(ports.blobs.media);
  const archives = new EncryptedBlobs(ports.blobs.exports);
  const signer = new UrlSigner(keys.urlSigning, config.media.urlTtlSeconds, config.publicUrl ?? "");
  const images = new ImagePool(imageWorkerCount(config.media.concurrency));
  const jobs: MediaJobs = new MediaJobs({
    config,
    store,
    dataKeys,
    blobs,
    images,
    runner,
    ffmpeg: {
      ffmpegPath: config.media.ffmpegPath,
      ffprobePath: config.media.ffprobePath,
      timeoutMs: config.media.jobTimeoutMs,
    },
    logger,
    metrics,
    onSettled: (m) => media.settled(m),
  });
  const media: MediaService = new MediaService({
    config,
    store,
    dataKeys,
    blobs,
    signer,
    jobs,
    notices,
    logger,
  });
  const users = new UsersService({ store, presence, avatars: media, audit });
  const auth = new AuthService({ config, store, hasher, tokens, limiter, guard, audit, activity });
  const renderer = new MessageRenderer({ store, dataKeys, media, logger });
  const loopLag = new LoopLag();
  const events = new EventLog({
    store,
    renderer,
    publisher,
    admissionMs: config.sendAdmissionMs,
    loopLag,
  });
  const hot = ports.reads && new HotReads({ store, renderer, reads: ports.reads });
  const views = new ConversationViews({ store, renderer, avatars: media });
  const reach = new ReachPolicy({ store });
  const invitations = new InvitationsService({ store, notices, avatars: media });
  const conversations = new ConversationsService({
    config,
    store,
    events,
    avatars: media,
    views,
    hot,
    reach,
    invitations,
  });
  const members = new ConversationMembers({
    config,
    store,
    events,
    conversations,
    views,
    reach,
    invitations,
  });
  const groupModeration = new GroupModeration({
    store,
    events,
    conversations,
    views,
    dataKeys,
    audit,
  });
  invitations.members = members;
  invitations.conversations = conversations;
  const blocks = new BlocksService({ store, publisher });
  const rules = new SendRules({ store });
  // Everything that calls a URL a user or an operator supplied goes through this one client.
  const refused = metrics.counter(
    "parley_outbound_refused_total",
    "Outbound requests refused by the guard (private targets, oversize, slow), by reason",
  );
  const outbound = new OutboundClient({
    allowPrivate: config.outboundAllowPrivate,
    httpsOnly: config.env === "production",
    logger,
    onRefused: (reason) => refused.inc({ reason }),
  });
  const vapid = await loadVapidKeys(config);
  const providers = pushProviders(config, vapid, outbound);
  const push: PushService = new PushService({
    store,
    dataKeys,
    outbound,
    vapidPublicKey: vapid.publicKey,
    kinds: new Set(providers.keys()),
    // The delivery below sends; it is only called once both exist.
    test: (actor) => delivery.test(actor),
    onAck: (provider) => delivery.acked(provider),
    onSubscribe: () => delivery.subscribed(),
  });
  const delivery: PushDelivery = new PushDelivery({
    store,
    push,
    providers,
    renderer,
    presence,
    blocks,
    runner,
    delayMs: config.push.delayMs,
    logger,
    metrics,
  });
  const messages = new MessagesService({
    config,
    store,
    dataKeys,
    renderer,
    events,
    media,
    conversations,
    limiter,
    notices,
    logger,
    hot,
    activity,
    rules,
    metrics,
    pushJob: (conversationId, senderId, messageId, now) =>
      delivery.messageJob(conversationId, senderId, messageId, now),
  });

  // Search: tokens keyed by the active encryption key; the index follows this instance's commits.
  const searchTokens = await SearchTokens.create(keys.encryption);
  const indexer = config.searchEnabled
    ? new SearchIndexer({ store, dataKeys, tokens: searchTokens, logger, metrics })
    : null;
  if (indexer) events.onCommitted((record, view) => indexer.committed(record, view));
  const search = new SearchService({
    store,
    conversations,
    renderer,
    tokens: searchTokens,
    enabled: config.searchEnabled,
  });

  const receipts = new ReceiptsService({
    config,
    store,
    conversations,
    notices,
    onRead: (actor, conversationId, seq) => delivery.afterRead(actor, conversationId, seq),
  });
  const typing = new TypingService({
    conversations,
    notices,
    ttlMs: config.ws.typingTtlMs,
    blockers: (userId) => blocks.blockerIds(userId),
  });
  new MessageExpiry({ store, events, media, jobs: runner });
  registerPollClosing({ jobs: runner, events });
  const pins = new PinsService({ store, conversations, events, renderer });
  const editHistory = new EditHistory({ store, dataKeys, conversations });
  const mentions = new MentionsFeed({ store, renderer });
  const scheduled = new ScheduledMessages({
    store,
    dataKeys,
    media,
    conversations,
    messages,
    notices,
    jobs: runner,
    logger,
  });
  const drafts = new DraftsService({ store, dataKeys, conversations, notices });
  const polls = new PollsService({ store, conversations, events, renderer });
  const threads = new ThreadsService({ store, conversations, renderer, notices });
  const reports = new ReportsService({ store, conversations, renderer, dataKeys, admin, audit });
  const inviteLinks = new InviteLinks({ store, conversations, members, avatars: media });
  const userData = [scheduled, drafts, polls, threads, invitations, reports, blocks, push];
  const security = new AccountSecurity({ config, store, hasher, limiter, auth, audit });
  const siteModeration = new SiteModeration({
    store,
    admin,
    auth,
    messages,
    rules,
    dataKeys,
    audit,
  });
  const exports = new DataExports({
    config,
    store,
    admin,
    dataKeys,
    blobs: archives,
    mediaBlobs: blobs,
    userData,
    signer,
    notices,
    audit,
    logger,
    metrics,
  });
  const holds = new LegalHolds({ store, dataKeys, admin, media, audit, logger });
  const erasure = new AccountErasure({
    store,
    security,
    auth,
    dataKeys,
    members,
    events,
    userData,
    media,
    exports,
    holds,
    limiter,
    audit,
    logger,
    metrics,
  });
  const sweeper = new PrivacySweeper({
    store,
    media,
    exports,
    erasure,
    logger,
    metrics,
    intervalMs: config.retentionSweepMs,
  });
  const hashOps = metrics.gauge("parley_password_operations", "argon2id operations run, by kind");
  hashOps.collect(
    () => [[{ op: "hash" }, hasher.operations.hash], [{ op: "verify" }, hasher.operations.verify]],
  );

  return {
    services: {
      auth,
      security,
      users,
      presence,
      admin,
      audit,
      activity,
      conversations,
      members,
      messages,
      scheduled,
      pins,
      drafts,
      editHistory,
      mentions,
      polls,
      threads,
      blocks,
      invitations,
      reports,
      inviteLinks,
      groupModeration,
      siteModeration,
      receipts,
      push,
      search,
      typing,
      media,
      exports,
      holds,
      erasure,
      sweeper,
    },
    events,
    publisher,
    async start() {
      if (config.sendAdmissionMs > 0) loopLag.start();
      await jobs.start();
      activity.start();
      exports.start();
      sweeper.start();
      runner.start();
      indexer?.start();
    },
    async close() {
      loopLag.close();
      typing.close();
      await indexer?.close();
      await runner.close();
      await sweeper.stop();
      await exports.close();
      await jobs.close();
      images.close();
      await receipts.flush();
      await activity.close();
      await guard.stop();
      hasher.close();
      await publisher.flushed();
      publisher.close();
    },
  };
}
