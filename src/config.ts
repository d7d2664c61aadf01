import { z } from "zod";

/**
 * Thrown when the environment holds a value Parley cannot run with. Its message is one line that names
 * the variable, so an operator can fix it without reading code.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

// Every environment variable is named exactly once below, by `env(NAME, schema)`, at the place in the
// `Config` tree its value lands. `loadConfig` walks the tree to find the variables, parses them, and
// maps validation issues back to variable names; `Config` is the schema's output type.

/** The environment variable each leaf schema reads. */
const envNames = new WeakMap<z.core.$ZodType, string>();

/** Marks `schema` as the parser of environment variable `name` and returns it. */
function env<S extends z.ZodType>(name: string, schema: S): S {
  envNames.set(schema, name);
  return schema;
}

function int(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

function ms(seconds: number): number {
  return seconds * 1000;
}

const MiB = 1024 * 1024;

function mib(megabytes: number): number {
  return megabytes * MiB;
}

const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) =>
  v === "true" || v === "1" || v === "yes"
);

/** A comma-separated origin list; `"*"` anywhere allows any origin. */
const origins = z.string().default("").transform((value, ctx): string[] | "*" => {
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.find((origin) => origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: "each origin must look like https://host[:port]",
      params: { got: bad },
    });
    return z.NEVER;
  }
  return list.includes("*") ? "*" : list;
});

const mongo = z.object({
  uri: env(
    "MONGODB_URI",
    z.string().regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
      .optional(),
  ),
  db: env("MONGODB_DB", z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default("parley")),
  appName: env("MONGODB_APP_NAME", z.string().min(1).max(128).default("parley")),
  maxPoolSize: env("MONGODB_MAX_POOL_SIZE", int(1, 1000).default(50)),
  timeoutMs: env("MONGODB_TIMEOUT_MS", int(100, 120_000).default(10_000)),
}).transform(({ uri, ...rest }) => uri ? { uri, ...rest } : undefined).optional();

/**
 * The read cache of the newest history page and the first conversation-list page (Redis when
 * `REDIS_URL` is set, in-process otherwise). `maxEntries` bounds the in-process adapter.
 */
const readCache = z.object({
  enabled: env("READ_CACHE", bool.default(true)),
  ttlMs: env("READ_CACHE_TTL_SECONDS", int(1, 86_400).default(600).transform(ms)),
  maxEntries: env("READ_CACHE_MAX_ENTRIES", int(100, 10_000_000).default(10_000)),
  timeoutMs: env("READ_CACHE_TIMEOUT_MS", int(10, 10_000).default(500)),
});

const s3Fields = {
  endpoint: env("S3_ENDPOINT", z.url({ protocol: /^https?$/ }).optional()),
  region: env("S3_REGION", z.string().min(1).max(64).default("auto")),
  bucket: env(
    "S3_BUCKET",
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid bucket name")
      .optional(),
  ),
  accessKeyId: env("S3_ACCESS_KEY_ID", z.string().min(1).optional()),
  secretAccessKey: env("S3_SECRET_ACCESS_KEY", z.string().min(1).optional()),
  forcePathStyle: env("S3_FORCE_PATH_STYLE", bool.default(false)),
  timeoutMs: env("S3_TIMEOUT_MS", int(100, 600_000).default(15_000)),
};

/**
 * Where media and export blobs live: the local `DATA_DIR` (default), or an S3-compatible bucket
 * (S3, R2, Tigris, MinIO…) that every instance in every region reads and writes.
 */
const blobs = z.object({
  store: env("BLOB_STORE", z.enum(["local", "s3"]).default("local")),
  s3: z.object(s3Fields),
}).superRefine((v, ctx) => {
  if (v.store !== "s3") return;
  for (const key of ["endpoint", "bucket", "accessKeyId", "secretAccessKey"] as const) {
    if (v.s3[key] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["s3", key],
        message: "is required when BLOB_STORE=s3",
      });
    }
  }
});

const sentry = z.object({
  dsn: env("SENTRY_DSN", z.url().optional()),
  tracesSampleRate: env("SENTRY_TRACES_SAMPLE_RATE", z.coerce.number().min(0).max(1).default(0)),
}).transform(({ dsn, tracesSampleRate }) => dsn ? { dsn, tracesSampleRate } : undefined)
  .optional();

const region = z.object({
  fly: env("FLY_REGION", z.string().optional()),
  plain: env("REGION", z.string().optional()),
}).transform(({ fly, plain }) => fly ?? plain ?? "local");

const instanceId = z.object({
  fly: env("FLY_MACHINE_ID", z.string().optional()),
  plain: env("INSTANCE_ID", z.string().optional()),
}).transform(({ fly, plain }) => plain ?? fly ?? crypto.randomUUID().slice(0, 8));

/** Raw key material from the environment; resolved (or generated in development) by `loadKeys`. */
const keySources = z.object({
  jwtKeys: env("JWT_KEYS", z.string().optional()),
  encryptionKeys: env("ENCRYPTION_KEYS", z.string().optional()),
  encryptionActiveKeyId: env("ENCRYPTION_ACTIVE_KEY_ID", z.string().optional()),
  urlSigningKey: env("URL_SIGNING_KEY", z.string().optional()),
});

const auth = z.object({
  accessTokenTtlSeconds: env("ACCESS_TOKEN_TTL_SECONDS", int(60, 86_400).default(900)),
  refreshTokenTtlDays: env("REFRESH_TOKEN_TTL_DAYS", int(1, 365).default(30)),
  passwordWorkers: env("PASSWORD_WORKERS", int(1, 32).default(2)),
  argon2: z.object({
    memoryKiB: env("ARGON2_MEMORY_KIB", int(19_456, 1_048_576).default(19_456)),
    iterations: env("ARGON2_ITERATIONS", int(2, 20).default(2)),
  }),
});

const limits = z.object({
  maxJsonBodyBytes: env("MAX_JSON_BODY_BYTES", int(1024, 16 * MiB).default(256 * 1024)),
  loginFailuresPerAccount: env("RATE_LOGIN_FAILURES_PER_ACCOUNT", int(1, 1_000_000).default(10)),
  loginFailuresPerIp: env("RATE_LOGIN_FAILURES_PER_IP", int(1, 1_000_000).default(100)),
  loginWindowSeconds: env("RATE_LOGIN_WINDOW_SECONDS", int(1, 86_400).default(900)),
  registrationsPerIp: env("RATE_REGISTRATIONS_PER_IP", int(1, 1_000_000).default(100)),
  registrationWindowSeconds: env("RATE_REGISTRATION_WINDOW_SECONDS", int(1, 86_400).default(3600)),
  messagesPerMinute: env("RATE_MESSAGES_PER_MINUTE", int(1, 1_000_000).default(1200)),
  groupMemberLimit: env("GROUP_MEMBER_LIMIT", int(2, 100_000).default(1000)),
});

const store = z.object({
  groupCommit: env("GROUP_COMMIT", bool.default(true)),
  groupCommitMaxBatch: env("GROUP_COMMIT_MAX_BATCH", int(1, 10_000).default(256)),
  /** 0: adaptive (a change that finds the writer idle goes at once); > 0: a fixed window. */
  groupCommitWindowMs: env("GROUP_COMMIT_WINDOW_MS", int(0, 100).default(0)),
  sqliteSynchronous: env("SQLITE_SYNCHRONOUS", z.enum(["FULL", "NORMAL"]).default("FULL")),
  /** The embedded database file (default `DATA_DIR/parley.db`). */
  sqlitePath: env("SQLITE_PATH", z.string().min(1).optional()),
});

const wsFields = {
  heartbeatMs: env("WS_HEARTBEAT_MS", int(1000, 600_000).default(30_000)),
  authTimeoutMs: env("WS_AUTH_TIMEOUT_MS", int(100, 60_000).default(10_000)),
  maxFrameBytes: env("WS_MAX_FRAME_BYTES", int(1024, MiB).default(64 * 1024)),
  sendBufferBytes: env("WS_SEND_BUFFER_BYTES", int(16 * 1024, 256 * MiB).default(4 * MiB)),
  framesPerSecond: env("WS_FRAMES_PER_SECOND", int(1, 100_000).default(60)),
  framesBurst: env("WS_FRAMES_BURST", int(1, 100_000).default(120)),
  resumeMaxGap: env("WS_RESUME_MAX_GAP", int(1, 1_000_000).default(1000)),
  typingTtlMs: env("TYPING_TTL_MS", int(500, 60_000).default(6000)),
  receiptAggregateOver: env("RECEIPT_AGGREGATE_OVER", int(1, 100_000).default(100)),
  presenceTtlSeconds: env("PRESENCE_TTL_SECONDS", int(5, 3600).default(60)),
};

const ws = z.object(wsFields).superRefine((v, ctx) => {
  if (v.framesBurst < v.framesPerSecond) {
    ctx.addIssue({
      code: "custom",
      path: ["framesBurst"],
      message: `must be at least ${envNames.get(wsFields.framesPerSecond)}`,
    });
  }
});

const media = z.object({
  maxBytes: z.object({
    image: env("MEDIA_MAX_IMAGE_MB", int(1, 10_000).default(20).transform(mib)),
    audio: env("MEDIA_MAX_AUDIO_MB", int(1, 10_000).default(25).transform(mib)),
    video: env("MEDIA_MAX_VIDEO_MB", int(1, 100_000).default(200).transform(mib)),
    document: env("MEDIA_MAX_DOCUMENT_MB", int(1, 100_000).default(100).transform(mib)),
  }),
  concurrency: env("MEDIA_CONCURRENCY", int(1, 64).default(2)),
  jobTimeoutMs: env("MEDIA_JOB_TIMEOUT_SECONDS", int(5, 3600).default(300).transform(ms)),
  urlTtlSeconds: env("MEDIA_URL_TTL_SECONDS", int(10, 7 * 86_400).default(3600)),
  ffmpegPath: env("FFMPEG_PATH", z.string().min(1).default("ffmpeg")),
  ffprobePath: env("FFPROBE_PATH", z.string().min(1).default("ffprobe")),
});

/** Push notifications: the delay before a push, and the providers' credentials. */
const push = z.object({
  delayMs: env("PUSH_DELAY_MS", int(0, 600_000).default(3000)),
  vapid: z.object({
    publicKey: env("VAPID_PUBLIC_KEY", z.string().regex(/^[A-Za-z0-9_-]{87}$/).optional()),
    privateKey: env("VAPID_PRIVATE_KEY", z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional()),
    subject: env(
      "VAPID_SUBJECT",
      z.string().regex(/^(mailto:.+@.+|https:\/\/.+)$/, "must be a mailto: or https: URL")
        .optional(),
    ),
  }),
  fcm: z.object({
    projectId: env("FCM_PROJECT_ID", z.string().min(1).optional()),
    /** The service account's JSON key (client_email, private_key, token_uri). */
    serviceAccount: env("FCM_SERVICE_ACCOUNT", z.string().min(2).optional()),
    baseUrl: env("FCM_BASE_URL", z.url({ protocol: /^https?$/ }).optional()),
  }),
  apns: z.object({
    keyId: env("APNS_KEY_ID", z.string().min(1).optional()),
    teamId: env("APNS_TEAM_ID", z.string().min(1).optional()),
    /** The .p8 key (PKCS#8 PEM). */
    privateKey: env("APNS_PRIVATE_KEY", z.string().min(1).optional()),
    /** The app's bundle id. */
    topic: env("APNS_TOPIC", z.string().min(1).optional()),
    baseUrl: env("APNS_BASE_URL", z.url({ protocol: /^https?$/ }).optional()),
  }),
}).superRefine((v, ctx) => {
  const groups = [
    ["vapid", v.vapid, ["publicKey", "privateKey"]],
    ["fcm", v.fcm, ["projectId", "serviceAccount"]],
    ["apns", v.apns, ["keyId", "teamId", "privateKey", "topic"]],
  ] as const;
  for (const [name, group, keys] of groups) {
    const set = keys.filter((k) => (group as Record<string, unknown>)[k] !== undefined);
    if (set.length === 0 || set.length === keys.length) continue;
    for (const k of keys.filter((k) => !set.includes(k as never))) {
      ctx.addIssue({
        code: "custom",
        path: [name, k],
        message: `is required with ${set.join(", ")}`,
      });
    }
  }
});

/**
 * The whole configuration: every environment variable Parley reads, with its embedded default.
 * Nothing has to be set for development; production refuses to start without real keys (see
 * `src/crypto/keys.ts`).
 */
const ConfigSchema = z.object({
  env: env("PARLEY_ENV", z.enum(["development", "production"]).default("development")),
  host: env("HOST", z.string().min(1).default("127.0.0.1")),
  port: env("PORT", int(0, 65535).default(8080)),
  /** Absolute base URL clients reach this deployment at; used in signed media links. */
  publicUrl: env(
    "PUBLIC_URL",
    z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")).optional(),
  ),
  dataDir: env("DATA_DIR", z.string().min(1).default("./data")),
  blobs,
  mongo,
  redisUrl: env(
    "REDIS_URL",
    z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://").optional(),
  ),
  /** Deadline of each Redis command; past it Redis counts as down for a second (circuit breaker). */
  redisTimeoutMs: env("REDIS_TIMEOUT_MS", int(20, 60_000).default(500)),
  /** Namespace for every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: env("REDIS_PREFIX", z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/).default("parley:")),
  readCache,
  /** Allowed browser origins; `"*"` allows any (development default). */
  corsOrigins: env("CORS_ORIGINS", origins),
  logLevel: env("LOG_LEVEL", z.enum(["debug", "info", "warn", "error"]).default("info")),
  sentry,
  region,
  instanceId,
  trustProxy: env("TRUST_PROXY", bool.default(false)),
  metricsToken: env("METRICS_TOKEN", z.string().min(16).optional()),
  keySources,
  auth,
  limits,
  store,
  ws,
  media,
  retentionSweepMs: env("RETENTION_SWEEP_SECONDS", int(1, 86_400).default(300).transform(ms)),
  exportTtlHours: env("EXPORT_TTL_HOURS", int(1, 720).default(72)),
  /**
   * Message search: off, no index is kept (the search answers 503) and nothing is written for it;
   * turning it on again catches up from the log.
   */
  searchEnabled: env("SEARCH_ENABLED", bool.default(true)),
  /**
   * Admission control: a new message that waited longer than this (behind its socket's earlier
   * frames, on a commit under way, or on a late event loop) is refused with 503 `overloaded` and
   * `Retry-After` (0: never refuse). See docs/PERFORMANCE.md.
   */
  sendAdmissionMs: env("SEND_ADMISSION_MS", int(0, 60_000).default(750)),
  push,
  /** Outbound requests to user- or operator-supplied URLs may reach private addresses (dev, tests). */
  outboundAllowPrivate: env("OUTBOUND_ALLOW_PRIVATE", bool.default(false)),
  shutdownTimeoutMs: env("SHUTDOWN_TIMEOUT_MS", int(0, 600_000).default(10_000)),
});

/**
 * The typed, validated configuration of one Parley instance, derived from the schema above: each
 * field is the parsed (and unit-converted) value of the environment variable(s) named at its place.
 */
export interface Config extends z.output<typeof ConfigSchema> {}

/** Where one environment variable's value goes in the schema's input tree. */
interface EnvVar {
  name: string;
  path: string[];
}

function collectVars(schema: z.core.$ZodType, path: string[] = []): EnvVar[] {
  const name = envNames.get(schema);
  if (name !== undefined) return [{ name, path }];
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, child]) =>
      collectVars(child, [...path, key])
    );
  }
  if (schema instanceof z.ZodPipe) return collectVars(schema.in, path);
  if (schema instanceof z.ZodOptional) return collectVars(schema.unwrap(), path);
  throw new Error(`config schema at ${path.join(".")} reads no environment variable`);
}

const VARS = collectVars(ConfigSchema);
const NAME_AT = new Map(VARS.map((v) => [v.path.join("."), v.name]));
if (NAME_AT.size !== VARS.length || new Set(VARS.map((v) => v.name)).size !== VARS.length) {
  throw new Error("config schema names an environment variable twice");
}

/** The variable an issue at `path` is about: the nearest enclosing leaf, else `"environment"`. */
function nameAt(path: readonly PropertyKey[]): string {
  for (let end = path.length; end > 0; end--) {
    const name = NAME_AT.get(path.slice(0, end).map(String).join("."));
    if (name !== undefined) return name;
  }
  return "environment";
}

/**
 * Reads and validates the environment. Any bad value throws a {@link ConfigError} whose message is a
 * single line naming each offending variable; unset variables take their embedded defaults.
 *
 * @example
 * const config = loadConfig(Deno.env.toObject());
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const cleaned = new Map(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== "") as [string, string][],
  );
  const input: Record<string, unknown> = {};
  for (const { name, path } of VARS) {
    let node = input;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = cleaned.get(name);
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = nameAt(issue.path);
      const value = issue.code === "custom" && typeof issue.params?.got === "string"
        ? issue.params.got
        : cleaned.get(name);
      const got = typeof value === "string" ? ` (got ${JSON.stringify(value)})` : "";
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const config = parsed.data;
  if (config.corsOrigins.length === 0 && config.env === "development") config.corsOrigins = "*";
  return config;
}

/** The names of every environment variable Parley reads (for docs and the README table test). */
export const CONFIG_VARIABLES: readonly string[] = VARS.map((v) => v.name);
