import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../routes/_env.ts";
import { Gateway } from "../realtime/gateway.ts";
import { InFlight } from "../routes/_middleware.ts";
import { mediaRoutes } from "../routes/media.ts";
import { createHttpApp } from "../routes/mod.ts";
import type { Broker } from "./broker/broker.ts";
import { MemoryBroker } from "./broker/memory.ts";
import { RedisBroker } from "./broker/redis.ts";
import type { Config } from "./config.ts";
import { DataKeys, Keyring } from "./crypto/envelope.ts";
import { type Keys, loadKeys } from "./crypto/keys.ts";
import { PasswordHasher } from "./crypto/passwords.ts";
import { TokenService } from "./crypto/tokens.ts";
import { LocalBlobStore } from "./media/blob_store.ts";
import { EncryptedBlobs } from "./media/encrypted_blobs.ts";
import { ImagePool, imageWorkerCount } from "./media/image_pool.ts";
import { UrlSigner } from "./media/signed_url.ts";
import { MemoryRateLimiter } from "./limits/memory.ts";
import { RedisRateLimiter } from "./limits/redis.ts";
import { RedisPresence } from "./presence/redis.ts";
import { createRedisClient } from "./redis/client.ts";
import type { ReadCache } from "./cache/cache.ts";
import { InvalidatingStore } from "./cache/invalidating_store.ts";
import { MemoryReadCache } from "./cache/memory.ts";
import { ReadThrough } from "./cache/read_through.ts";
import { RedisReadCache } from "./cache/redis.ts";

import type { RateLimiter } from "./limits/rate_limit.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { MetricsRegistry } from "./observability/metrics.ts";
import { createErrorReporter, type ErrorReporter } from "./observability/sentry.ts";
import { MemoryPresence } from "./presence/memory.ts";
import type { PresenceRegistry } from "./presence/presence.ts";
import { AuditLog } from "./services/audit.ts";
import { AuthService } from "./services/auth.ts";
import { PresenceService } from "./services/presence.ts";
import { Publisher } from "./services/publisher.ts";
import { SessionGuard } from "./services/session_guard.ts";
import { MediaService } from "./services/media.ts";
import { MediaJobs } from "./services/media_jobs.ts";
import { UsersService } from "./services/users.ts";
import { ConversationMembers } from "./services/conversation_members.ts";
import { ConversationViews } from "./services/conversation_views.ts";
import { ConversationsService } from "./services/conversations.ts";
import { EventLog } from "./services/events.ts";
import { HotReads } from "./services/hot_reads.ts";
import { MessagesService } from "./services/messages.ts";
import { ReceiptsService } from "./services/receipts.ts";
import { MessageRenderer } from "./services/render.ts";
import { openStore } from "./store/open.ts";
import type { ActivityLedger } from "./activity/activity.ts";
import { RedisActivityLedger } from "./activity/redis.ts";
import { StoreActivityLedger } from "./activity/store.ts";
import { AccountSecurity } from "./services/account_security.ts";
import { ActivityService } from "./services/activity.ts";
import { DataExports } from "./services/data_exports.ts";
import { AccountErasure } from "./services/erasure.ts";
import { PrivacySweeper } from "./services/sweeper.ts";
import type { Store } from "./store/store.ts";

/** The wired services of one instance; the edges (routes, realtime) call only these. */
export interface Services {
  store: Store;
  auth: AuthService;
  users: UsersService;
  presence: PresenceService;
  audit: AuditLog;
  tokens: TokenService;
  conversations: ConversationsService;
  members: ConversationMembers;
  messages: MessagesService;
  receipts: ReceiptsService;
  media: MediaService;
  events: EventLog;
  renderer: MessageRenderer;
  publisher: Publisher;
  dataKeys: DataKeys;
  hasher: PasswordHasher;
  activity: ActivityService;
  security: AccountSecurity;
  exports: DataExports;
  erasure: AccountErasure;
  sweeper: PrivacySweeper;
}

/** A running Parley instance before it listens: its HTTP app and how to stop it. */
export interface Parley {
  config: Config;
  app: OpenAPIHono<AppEnv>;
  services: Services;
  logger: Logger;
  metrics: MetricsRegistry;
  reporter: ErrorReporter;
  broker: Broker;
  gateway: Gateway;
  /** Stops accepting work
: `/readyz` answers 503 and sockets close with 1012. */
  beginShutdown(): void;
  /** Resolves when no HTTP request is in flight. */
  drained(): Promise<void>;
  /** Releases everything (store, broker, workers). */
  close(): Promise<void>;
}

/** Options for {@link createParley}; tests use them to capture logs or share keys. */
export interface ParleyOptions {
  logWrite?: (line: string) => void;
  keys?: Keys;
}

/**
 * The composition root: the only place that chooses adapters (SQLite or MongoDB, in-process or
 * Redis) from the configuration and wires the services to them and to the edges.
 */
export async function createParley(config: Config, options: ParleyOptions = {}): Promise<Parley> {
  const logger = createLogger({
    level: config.logLevel,
    write: options.logWrite,
    base: {
      "service.name": "parley",
      "service.environment": config.env,
      "service.node.name": config.instanceId,
      "cloud.region": config.region,
    },
  });
  const metrics = new MetricsRegistry();
  const reporter = createErrorReporter(config, logger);
  const keys = options.keys ?? await loadKeys(config);
  await Deno.mkdir(config.dataDir, { recursive: true });

  const stored: Store = await openStore(config);
  const broker: Broker = config.redisUrl
    ? await RedisBroker.connect(config.redisUrl, logger, config.redisPrefix)
    : new MemoryBroker((err) =>
      logger.error("broker handler failed", { "error.message": String(err) })
    );
  const redis = config.redisUrl
    ? createRedisClient(config.redisUrl, logger, "commands", { offlineQueue: false })
    : undefined;
  await redis?.connect();
  const limiter: RateLimiter = redis
    ? new RedisRateLimiter(redis, config.redisPrefix)
    : new MemoryRateLimiter();
  const registry: PresenceRegistry = redis
    ? new RedisPresence(redis, config.redisPrefix, config.ws.presenceTtlSeconds * 1000)
    : new MemoryPresence();
  // The read cache is shared through Redis by every instance, or in-process for a single one.
  const cache: ReadCache | undefined = !config.readCache.enabled
    ? undefined
    : redis
    ? new RedisReadCache(redis, config.redisPrefix)
    : new MemoryReadCache({ maxEntries: config.readCache.maxEntries });
  const { ttlMs, timeoutMs } = config.readCache;
  const reads = cache && new ReadThrough(cache, { ttlMs, timeoutMs, logger, metrics });
  // Every write goes through the wrapper, so none can forget to invalidate what it changed.
  const store: Store = reads
    ? new InvalidatingStore(stored, (deps) => reads.invalidate(deps))
    : stored;
  const ledger: ActivityLedger = redis
    ? new RedisActivityLedger(redis, config.redisPrefix)
    : new StoreActivityLedger(store);
  logger.info("adapters selected", {
    "parley.store": store.kind,
    "parley.broker": broker.kind,
    "parley.rate_limiter": limiter.kind,
    "parley.presence": registry.kind,
    "parley.read_cache": cache?.kind ?? "off",
    "parley.activity": ledger.kind,
  });
  const activity = new ActivityService({ ledger, metrics, logger });

  const publisher = new Publisher(broker, config.instanceId, logger, metrics);
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
  const presence = new PresenceService({ store, registry, publisher, logger });
  const blobs = new EncryptedBlobs(await LocalBlobStore.open(`${config.dataDir}/media`));
  const archives = new EncryptedBlobs(await LocalBlobStore.open(`${config.dataDir}/exports`));
  const signer = new UrlSigner(keys.urlSigning, config.media.urlTtlSeconds, config.publicUrl ?? "");
  const images = new ImagePool(imageWorkerCount(config.media.concurrency));
  const jobs: MediaJobs = new MediaJobs({
    config,
    store,
    dataKeys,
    blobs,
    images,
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
    publisher,
    logger,
  });
  const users = new UsersService({ store, presence, avatars: media, audit });
  const auth = new AuthService({
    config,
    store,
    hasher,
    tokens,
    limiter,
    guard,
    audit,
    activity,
  });
  const renderer = new MessageRenderer({ store, dataKeys, media, logger });
  const events = new EventLog({ store, renderer, publisher });
  const hot = reads && new HotReads({ store, renderer, reads });
  const views = new ConversationViews({ store, renderer, avatars: media });
  const conversations = new ConversationsService({
    config,
    store,
    events,
    renderer,
    avatars: media,
    views,
    hot,
  });
  const members = new ConversationMembers({
    config,
    store,
    events,
    renderer,
    conversations,
    views,
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
    publisher,
    logger,
    hot,
    activity,
  });
  const receipts = new ReceiptsService({ config, store, conversations, publisher });
  const security = new AccountSecurity({ config, store, hasher, limiter, auth, audit });
  const exports = new DataExports({
    config,
    store,
    dataKeys,
    blobs: archives,
    mediaBlobs: blobs,
    signer,
    publisher,
    audit,
    logger,
    metrics,
  });
  const erasure = new AccountErasure({
    store,
    security,
    auth,
    dataKeys,
    members,
    renderer,
    events,
    media,
    exports,
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
  const services: Services = {
    store,
    auth,
    users,
    presence,
    audit,
    tokens,
    conversations,
    members,
    messages,
    receipts,
    media,
    events,
    renderer,
    publisher,
    dataKeys,
    hasher,
    activity,
    security,
    exports,
    erasure,
    sweeper,
  };
  await jobs.start();
  activity.start();
  exports.start();
  sweeper.start();
  const hashOps = metrics.gauge("parley_password_operations", "argon2id operations run, by kind");
  hashOps.collect(
    () => [[{ op: "hash" }, hasher.operations.hash], [{ op: "verify" }, hasher.operations.verify]],
  );
  metrics.gauge("process_resident_memory_bytes", "Resident memory").collect(
    () => [[{}, Deno.memoryUsage().rss]],
  );

  const gateway = new Gateway({ config, services, broker, logger, metrics, reporter });
  gateway.start();

  let shuttingDown = false;
  const inFlight = new InFlight();
  const app = createHttpApp({
    inFlight,
    extraV1: [gateway.router(), mediaRoutes(services)],
    unlimitedBodies: (path, method) => method === "POST" && path === "/v1/media",
    config,
    logger,
    metrics,
    reporter,
    services,
    readiness: [
      { name: "store", check: () => store.ping() },
      { name: "broker", check: () => broker.ping() },
      ...(redis ? [{ name: "redis", check: async () => void await redis.ping() }] : []),
    ],
    isShuttingDown: () => shuttingDown,
  });

  return {
    config,
    app,
    services,
    logger,
    metrics,
    reporter,
    broker,
    gateway,
    beginShutdown() {
      shuttingDown = true;
      gateway.closeAll();
    },
    drained: () => inFlight.drained(),
    async close() {
      await gateway.stop();
      await sweeper.stop();
      await exports.close();
      await jobs.close();
      images.close();
      await receipts.flush();
      await activity.close();
      await guard.stop();
      hasher.close();
      publisher.close();
      await broker.close();
      await limiter.close();
      await registry.close();
      await reads?.close();
      if (redis?.isOpen) await redis.close().catch(() => redis.destroy());
      await store.close();
      await reporter.flush(2000);
    },
  };
}
