// Creates or promotes an administrator:
//   deno task admin:create --username NAME [--password-stdin]
// An existing account is promoted to the global admin role. A new account is created as admin with
// the password read from stdin (--password-stdin) or from PARLEY_ADMIN_PASSWORD. Reads the same
// environment as the server (DATA_DIR, ARGON2_*), prints one line, and exits non-zero on bad input.
import { ConfigError, loadConfig } from "../src/config.ts";
import { PasswordHasher } from "../src/crypto/passwords.ts";
import { AppError } from "../src/domain/errors.ts";
import {
  checkDisplayName,
  foldUsername,
  normalizePassword,
  passwordProblems,
  usernameProblems,
} from "../src/domain/profile.ts";
import { newId, nowIso } from "../src/ids.ts";
import { createLogger } from "../src/observability/logger.ts";
import { AuditLog } from "../src/services/audit.ts";
import { openStore } from "../src/store/open.ts";

const USAGE = "usage: deno task admin:create --username NAME [--password-stdin]";

/** Bad input: reported as one line on stderr with a non-zero exit. */
class CliError extends Error {
  override name = "CliError";
}

interface Args {
  username: string;
  passwordStdin: boolean;
}

function parseArgs(argv: string[]): Args | "help" {
  let username: string | undefined;
  let passwordStdin = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--password-stdin") passwordStdin = true;
    else if (arg === "--username") {
      username = argv[++i];
      if (username === undefined) throw new CliError(`--username needs a value; ${USAGE}`);
    } else if (arg.startsWith("--username=")) username = arg.slice("--username=".length);
    else throw new CliError(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
  }
  if (!username) throw new CliError(`--username is required; ${USAGE}`);
  return { username, passwordStdin };
}

async function readPassword(args: Args): Promise<string> {
  if (args.passwordStdin) {
    const text = await new Response(Deno.stdin.readable).text();
    return text.replace(/\r?\n$/, "");
  }
  const fromEnv = Deno.env.get("PARLEY_ADMIN_PASSWORD");
  if (fromEnv) return fromEnv;
  throw new CliError(
    "a new account needs a password: pipe it with --password-stdin or set PARLEY_ADMIN_PASSWORD",
  );
}

function firstProblem(problems: Array<{ path: string; message: string }>): string | undefined {
  return problems[0] && `${problems[0].path} ${problems[0].message}`;
}

async function run(argv: string[]): Promise<string> {
  const args = parseArgs(argv);
  if (args === "help") return USAGE;
  const config = loadConfig(Deno.env.toObject());
  const username = foldUsername(args.username);
  const bad = firstProblem(usernameProblems(username));
  if (bad) throw new CliError(bad);

  const store = await openStore(config);
  const logger = createLogger({ level: config.logLevel, write: (line) => console.error(line) });
  const audit = new AuditLog(store, logger);
  try {
    const existing = await store.accounts.getUserByUsername(username);
    if (existing?.deletedAt) throw new CliError(`${username} is an erased account`);
    if (existing?.role === "admin") {
      return `${username} (${existing.id}) is already an administrator; nothing changed`;
    }
    if (existing) {
      await store.accounts.updateUser(existing.id, { role: "admin" });
      await audit.record({
        action: "user.role_changed",
        actorId: null,
        targetId: existing.id,
        details: { via: "cli", from: existing.role, to: "admin" },
      });
      return `promoted ${username} (${existing.id}) to administrator`;
    }

    const password = await readPassword(args);
    const weak = firstProblem(passwordProblems(password));
    if (weak) throw new CliError(weak);
    const hasher = new PasswordHasher(config.auth.argon2, 1);
    let passwordHash: string;
    try {
      passwordHash = await hasher.hash(normalizePassword(password));
    } finally {
      hasher.close();
    }
    const created = await store.accounts.createUser({
      id: newId(),
      username,
      displayName: checkDisplayName(args.username),
      passwordHash,
      role: "admin",
      createdAt: nowIso(),
    });
    if (created.status === "username_taken") throw new CliError(`${username} is taken`);
    const { user } = created;
    await audit.record({
      action: "admin.created",
      actorId: null,
      targetId: user.id,
      details: { via: "cli" },
    });
    return `created administrator ${username} (${user.id})`;
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  try {
    console.log(await run(Deno.args));
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError || err instanceof AppError) {
      console.error(`admin:create: ${err.message}`);
      Deno.exit(err instanceof ConfigError ? 78 : 1);
    }
    throw err;
  }
}
