import { z } from "zod";

/**
 * Thrown when the environment holds a value Parley cannot run with. Its message is one line that names
 * the variable, so an operator can fix it without reading code.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) =>
  v === "true" || v === "1" || v === "yes"
);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));

/**
 * Every environment variable Parley reads, with its embedded default. Nothing has to be set for
 * development; production refuses to start without real keys (see `src/crypto/keys.ts`).
 */
const EnvSchema = z.object({
  PARLEY_ENV: z.enum(["development", "production"]).default("development"),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  MONGODB_URI: z.string().regex(
    /^mongodb(\+srv)?:\/\//,
    "must start with mongodb:// or mongodb+srv://",
  )
    .optional(),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default("parley"),
  MONGODB_APP_NAME: z.string().min(1).max(128).default("parley"),
  MONGODB_MAX_POOL_SIZE: int(1, 1000).default(50),
  MONGODB_TIMEOUT_MS: int(100, 120_000).default(10_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://").optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/).default("parley:"),
  READ_CACHE: bool.default(true),
  READ_CACHE_TTL_SECONDS: int(1, 86_400).default(600),
  READ_CACHE_MAX_ENTRIES: int(100, 10_000_000).default(10_000),
  READ_CACHE_TIMEOUT_MS: int(10, 10_000).default(500),
  CORS_ORIGINS: z.string().default(""),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  SENTRY_DSN: z.url().optional(),
  SENTRY_TRACES_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0),
  FLY_REGION: z.string().optional(),
  REGION: z.string().optional(),
  FLY_MACHINE_ID: z.string().optional(),
  INSTANCE_ID: z.string().optional(),
  TRUST_PROXY: bool.default(false),
  METRICS_TOKEN: z.string().min(16).optional(),
  JWT_KEYS: z.string().optional(),
  ENCRYPTION_KEYS: z.string().optional(),
  ENCRYPTION_ACTIVE_KEY_ID: z.string().optional(),
  URL_SIGNING_KEY: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  MAX_JSON_BODY_BYTES: int(1024, 16 * 1024 * 1024).default(256 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  PASSWORD_WORKERS: int(1, 32).default(2),
  ARGON2_MEMORY_KIB: int(19_456, 1_048_576).default(19_456),
  ARGON2_ITERATIONS: int(2, 20).default(2),
  RATE_LOGIN_FAILURES_PER_ACCOUNT: int(1, 1_000_000).default(10),
  RATE_LOGIN_FAILURES_PER_IP: int(1, 1_000_000).default(100),
  RATE_LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  RATE_REGISTRATIONS_PER_IP: int(1, 1_000_000).default(100),
  RATE_REGISTRATION_WINDOW_SECONDS: int(1, 86_400).default(3600),
  RATE_MESSAGES_PER_MINUTE: int(1, 1_000_000).default(1200),
  GROUP_MEMBER_LIMIT: int(2, 100_000).default(1000),
  GROUP_COMMIT: bool.default(true),
  GROUP_COMMIT_MAX_BATCH: int(1, 10_000).default(256),
  GROUP_COMMIT_WINDOW_MS: int(0, 100).default(2),
  SQLITE_SYNCHRONOUS: z.enum(["FULL", "NORMAL"]).default("FULL"),
  WS_HEARTBEAT_MS: int(1000, 600_000).default(30_000),
  WS_AUTH_TIMEOUT_MS: int(100, 60_000).default(10_000),
  WS_MAX_FRAME_BYTES: int(1024, 1024 * 1024).default(64 * 1024),
  WS_SEND_BUFFER_BYTES: int(16 * 1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  WS_FRAMES_PER_SECOND: int(1, 100_000).default(60),
  WS_FRAMES_BURST: int(1, 100_000).default(120),
  WS_RESUME_MAX_GAP: int(1, 1_000_000).default(1000),
  TYPING_TTL_MS: int(500, 60_000).default(6000),
  RECEIPT_AGGREGATE_OVER: int(1, 100_000).default(100),
  PRESENCE_TTL_SECONDS: int(5, 3600).default(60),
  MEDIA_MAX_IMAGE_MB: int(1, 10_000).default(20),
  MEDIA_MAX_AUDIO_MB: int(1, 10_000).default(25),
  MEDIA_MAX_VIDEO_MB: int(1, 100_000).default(200),
  MEDIA_MAX_DOCUMENT_MB: int(1, 100_000).default(100),
  MEDIA_CONCURRENCY: int(1, 64).default(2),
  MEDIA_JOB_TIMEOUT_SECONDS: int(5, 3600).default(300),
  MEDIA_URL_TTL_SECONDS: int(10, 7 * 86_400).default(3600),
  FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  RETENTION_SWEEP_SECONDS: int(1, 86_400).default(300),
  EXPORT_TTL_HOURS: int(1, 720).default(72),
}).superRefine((env, ctx) => {
  if (env.WS_FRAMES_BURST < env.WS_FRAMES_PER_SECOND) {
    ctx.addIssue({
      code: "custom",
      path: ["WS_FRAMES_BURST"],
      message: "must be at least WS_FRAMES_PER_SECOND",
    });
  }
});

type Env = z.infer<typeof EnvSchema>;

/** The typed, validated configuration of one Parley instance. */
export interface Config {
  env: "development" | "production";
  host: string;
  port: number;
  /** Absolute base URL clients reach this deployment at; used in signed media links. */
  publicUrl?: string;
  dataDir: string;
  mongo?: { uri: string; db: string; appName: string; maxPoolSize: number; timeoutMs: number };
  redisUrl?: string;
  /** Namespace for every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  /**
   * The read cache of the newest history page and the first conversation-list page (Redis when
   * `REDIS_URL` is set, in-process otherwise). `maxEntries` bounds the in-process adapter.
   */
  readCache: { enabled: boolean; ttlMs: number; maxEntries: number; timeoutMs: number };
  /** Allowed browser origins; `"*"` allows any (development default). */
  corsOrigins: string[] | "*";
  logLevel: "debug" | "info" | "warn" | "error";
  sentry?: { dsn: string; tracesSampleRate: number };
  region: string;
  instanceId: string;
  trustProxy: boolean;
  metricsToken?: string;
  /** Raw key material from the environment; resolved (or generated in development) by `loadKeys`. */
  keySources: {
    jwtKeys?: string;
    encryptionKeys?: string;
    encryptionActiveKeyId?: string;
    urlSigningKey?: string;
  };
  auth: {
    accessTokenTtlSeconds: number;
    refreshTokenTtlDays: number;
    passwordWorkers: number;
    argon2: { memoryKiB: number; iterations: number };
  };
  limits: {
    maxJsonBodyBytes: number;
    loginFailuresPerAccount: number;
    loginFailuresPerIp: number;
    loginWindowSeconds: number;
    registrationsPerIp: number;
    registrationWindowSeconds: number;
    messagesPerMinute: number;
    groupMemberLimit: number;
  };
  store: {
    groupCommit: boolean;
    groupCommitMaxBatch: number;
    groupCommitWindowMs: number;
    sqliteSynchronous: "FULL" | "NORMAL";
  };
  ws: {
    heartbeatMs: number;
    authTimeoutMs: number;
    maxFrameBytes: number;
    sendBufferBytes: number;
    framesPerSecond: number;
    framesBurst: number;
    resumeMaxGap: number;
    typingTtlMs: number;
    receiptAggregateOver: number;
    presenceTtlSeconds: number;
  };
  media: {
    maxBytes: { image: number; audio: number; video: number; document: number };
    concurrency: number;
    jobTimeoutMs: number;
    urlTtlSeconds: number;
    ffmpegPath: string;
    ffprobePath: string;
  };
  retentionSweepMs: number;
  exportTtlHours: number;
  shutdownTimeoutMs: number;
}

const MiB = 1024 * 1024;

/**
 * Reads and validates the environment. Any bad value throws a {@link ConfigError} whose message is a
 * single line naming each offending variable; unset variables take their embedded defaults.
 *
 * @example
 * const config = loadConfig(Deno.env.toObject());
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([k, v]) => v !== undefined && v !== "" && k in EnvSchema.shape),
  );
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const got = typeof cleaned[name] === "string"
        ? ` (got ${JSON.stringify(cleaned[name])})`
        : "";
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return toConfig(parsed.data);
}

function toConfig(env: Env): Config {
  const cors = csv.parse(env.CORS_ORIGINS);
  for (const origin of cors) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        `invalid configuration: CORS_ORIGINS: each origin must look like https://host[:port] (got ${
          JSON.stringify(origin)
        })`,
      );
    }
  }
  const corsOrigins = cors.includes("*") || (cors.length === 0 && env.PARLEY_ENV === "development")
    ? "*" as const
    : cors;
  return {
    env: env.PARLEY_ENV,
    host: env.HOST,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ""),
    dataDir: env.DATA_DIR,
    mongo: env.MONGODB_URI
      ? {
        uri: env.MONGODB_URI,
        db: env.MONGODB_DB,
        appName: env.MONGODB_APP_NAME,
        maxPoolSize: env.MONGODB_MAX_POOL_SIZE,
        timeoutMs: env.MONGODB_TIMEOUT_MS,
      }
      : undefined,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    readCache: {
      enabled: env.READ_CACHE,
      ttlMs: env.READ_CACHE_TTL_SECONDS * 1000,
      maxEntries: env.READ_CACHE_MAX_ENTRIES,
      timeoutMs: env.READ_CACHE_TIMEOUT_MS,
    },
    corsOrigins,
    logLevel: env.LOG_LEVEL,
    sentry: env.SENTRY_DSN
      ? { dsn: env.SENTRY_DSN, tracesSampleRate: env.SENTRY_TRACES_SAMPLE_RATE }
      : undefined,
    region: env.FLY_REGION ?? env.REGION ?? "local",
    instanceId: env.INSTANCE_ID ?? env.FLY_MACHINE_ID ?? crypto.randomUUID().slice(0, 8),
    trustProxy: env.TRUST_PROXY,
    metricsToken: env.METRICS_TOKEN,
    keySources: {
      jwtKeys: env.JWT_KEYS,
      encryptionKeys: env.ENCRYPTION_KEYS,
      encryptionActiveKeyId: env.ENCRYPTION_ACTIVE_KEY_ID,
      urlSigningKey: env.URL_SIGNING_KEY,
    },
    auth: {
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
      passwordWorkers: env.PASSWORD_WORKERS,
      argon2: { memoryKiB: env.ARGON2_MEMORY_KIB, iterations: env.ARGON2_ITERATIONS },
    },
    limits: {
      maxJsonBodyBytes: env.MAX_JSON_BODY_BYTES,
      loginFailuresPerAccount: env.RATE_LOGIN_FAILURES_PER_ACCOUNT,
      loginFailuresPerIp: env.RATE_LOGIN_FAILURES_PER_IP,
      loginWindowSeconds: env.RATE_LOGIN_WINDOW_SECONDS,
      registrationsPerIp: env.RATE_REGISTRATIONS_PER_IP,
      registrationWindowSeconds: env.RATE_REGISTRATION_WINDOW_SECONDS,
      messagesPerMinute: env.RATE_MESSAGES_PER_MINUTE,
      groupMemberLimit: env.GROUP_MEMBER_LIMIT,
    },
    store: {
      groupCommit: env.GROUP_COMMIT,
      groupCommitMaxBatch: env.GROUP_COMMIT_MAX_BATCH,
      groupCommitWindowMs: env.GROUP_COMMIT_WINDOW_MS,
      sqliteSynchronous: env.SQLITE_SYNCHRONOUS,
    },
    ws: {
      heartbeatMs: env.WS_HEARTBEAT_MS,
      authTimeoutMs: env.WS_AUTH_TIMEOUT_MS,
      maxFrameBytes: env.WS_MAX_FRAME_BYTES,
      sendBufferBytes: env.WS_SEND_BUFFER_BYTES,
      framesPerSecond: env.WS_FRAMES_PER_SECOND,
      framesBurst: env.WS_FRAMES_BURST,
      resumeMaxGap: env.WS_RESUME_MAX_GAP,
      typingTtlMs: env.TYPING_TTL_MS,
      receiptAggregateOver: env.RECEIPT_AGGREGATE_OVER,
      presenceTtlSeconds: env.PRESENCE_TTL_SECONDS,
    },
    media: {
      maxBytes: {
        image: env.MEDIA_MAX_IMAGE_MB * MiB,
        audio: env.MEDIA_MAX_AUDIO_MB * MiB,
        video: env.MEDIA_MAX_VIDEO_MB * MiB,
        document: env.MEDIA_MAX_DOCUMENT_MB * MiB,
      },
      concurrency: env.MEDIA_CONCURRENCY,
      jobTimeoutMs: env.MEDIA_JOB_TIMEOUT_SECONDS * 1000,
      urlTtlSeconds: env.MEDIA_URL_TTL_SECONDS,
      ffmpegPath: env.FFMPEG_PATH,
      ffprobePath: env.FFPROBE_PATH,
    },
    retentionSweepMs: env.RETENTION_SWEEP_SECONDS * 1000,
    exportTtlHours: env.EXPORT_TTL_HOURS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

/** The names of every environment variable Parley reads (for docs and the README table test). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);
