import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../routes/_env.ts";
import { Gateway } from "../realtime/gateway.ts";
import { Hub } from "../realtime/hub.ts";
import { InFlight } from "../routes/_middleware.ts";
import { mediaRoutes } from "../routes/media.ts";
import { createHttpApp } from "../routes/mod.ts";
import type { Broker } from "./broker/broker.ts";
import { MemoryBroker } from "./broker/memory.ts";
import { RedisBroker } from "./broker/redis.ts";
import type { Config } from "./config.ts";
import { type Keys, loadKeys } from "./crypto/keys.ts";
import { type BlobStore, LocalBlobStore } from "./media/blob_store.ts";
import { S3BlobStore, s3Options } from "./media/s3_blob_store.ts";
import { MemoryRateLimiter } from "./limits/memory.ts";
import { RedisRateLimiter } from "./limits/redis.ts";
import { RedisPresence } from "./presence/redis.ts";
import { createRedisClient } from "./redis/client.ts";
import type { ReadCache } from "./cache/cache.ts";
import { invalidatingStore } from "./cache/invalidating_store.ts";
import { MemoryReadCache } from "./cache/memory.ts";
import { ReadThrough } from "./cache/read_through.ts";
import { RedisReadCache } from "./cache/redis.ts";

import type { RateLimiter } from "./limits/rate_limit.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { MetricsRegistry } from "./observability/metrics.ts";
import { createErrorReporter, type ErrorReporter } from "./observability/sentry.ts";
import { MemoryPresence } from "./presence/memory.ts";
import type { PresenceRegistry } from "./presence/presence.ts";
import { openStore } from "./store/open.ts";
import type { ActivityLedger } from "./activity/activity.ts";
import { RedisActivityLedger } from "./activity/redis.ts";
import { StoreActivityLedger } from "./activity/store.ts";
import type { Store } from "./store/store.ts";
import { createServices, type Services } from "./services/mod.ts";

/** A running Parley instance before it listens: its HTTP app and how to stop it. */
export interface Parley {
  config: Config;
  app: OpenAPIHono<AppEnv>;
  services: Services;
  /** The store the services use (tests and tools inspect it; the edges never see it). */
  store: Store;
  logger: Logger;
  metrics: MetricsRegistry;
  reporter: ErrorReporter;
  broker: Broker;
  gateway: Gateway;
  /** Stops accepting work: `/readyz` answers 503 and sockets close with 1012. */
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
  await prepareDataDir(config.dataDir, logger);
  const keys = options.keys ?? await loadKeys(config);

  const stored: Store = await openStore(config);
  const broker: Broker = config.redisUrl
    ? await RedisBroker.connect(config.redisUrl, logger, config.redisPrefix, config.redisTimeoutMs)
    : new MemoryBroker((err) =>
      logger.error("broker handler failed", { "error.message": String(err) })
    );
  const redis = config.redisUrl
    ? createRedisClient(config.redisUrl, logger, "commands", {
      offlineQueue: false,
      deadlineMs: config.redisTimeoutMs,
    })
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
  const store: Store = reads ? invalidatingStore(stored, (deps) => reads.invalidate(deps)) : stored;
  const ledger: ActivityLedger = redis
    ? new RedisActivityLedger(redis, config.redisPrefix)
    : new StoreActivityLedger(store);
  const blobs = await openBlobStores(config);
  logger.info("adapters selected", {
    "parley.blobs": blobs.media.kind,
    "parley.store": store.kind,
    "parley.broker": broker.kind,
    "parley.rate_limiter": limiter.kind,
    "parley.presence": registry.kind,
    "parley.read_cache": cache?.kind ?? "off",
    "parley.activity": ledger.kind,
  });
  const layer = await createServices({
    config,
    keys,
    store,
    broker,
    limiter,
    registry,
    ledger,
    reads,
    blobs,
    logger,
    metrics,
  });
  const { services } = layer;
  await layer.start();
  metrics.gauge("process_resident_memory_bytes", "Resident memory").collect(
    () => [[{}, Deno.memoryUsage().rss]],
  );

  const hub = new Hub({
    events: layer.events,
    publisher: layer.publisher,
    broker,
    logger,
    metrics,
    blocked: (userId) => services.blocks.blockedIds(userId),
  });
  const gateway = new Gateway({ config, services, hub, logger, metrics, reporter });
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
      ...(blobs.media instanceof S3BlobStore
        ? [{ name: "blobs", check: () => (blobs.media as S3BlobStore).ping() }]
        : []),
    ],
    isShuttingDown: () => shuttingDown,
  });

  return {
    config,
    app,
    services,
    store,
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
      await layer.close();
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

/**
 * Where media and export archives are kept: directories under `DATA_DIR`, or one S3-compatible
 * bucket (keys under `media/` and `exports/`) that every instance shares.
 */
async function openBlobStores(config: Config): Promise<{ media: BlobStore; exports: BlobStore }> {
  if (config.blobs.store === "s3") {
    return {
      media: new S3BlobStore(s3Options(config.blobs.s3, "media/")),
      exports: new S3BlobStore(s3Options(config.blobs.s3, "exports/")),
    };
  }
  return {
    media: await LocalBlobStore.open(`${config.dataDir}/media`),
    exports: await LocalBlobStore.open(`${config.dataDir}/exports`),
  };
}

/**
 * Creates `DATA_DIR` readable by this user only (0700): it holds the database (usernames, password
 * hashes, session addresses, the audit log), keys and blobs. An existing one that others may read
 * is left as the operator made it, with a warning at start-up.
 */
async function prepareDataDir(dir: string, logger: Logger): Promise<void> {
  const info = await Deno.stat(dir).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  });
  if (!info) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; set it exactly.
    await Deno.chmod(dir, 0o700);
    return;
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    logger.warn("DATA_DIR is readable by other users: run chmod 700 on it", {
      "file.directory": dir,
      "file.mode": (info.mode & 0o777).toString(8),
    });
  }
}
