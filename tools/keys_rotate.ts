// Rotates the key-encryption key: re-wraps every per-user data key that is still wrapped by an older
// key of ENCRYPTION_KEYS under the active one (ENCRYPTION_ACTIVE_KEY_ID). Runs beside live servers, in
// batches, and is resumable: it only ever looks for keys not yet under the active key, so a re-run
// continues where a stopped one ended. Message bodies and media stay as they are: they are encrypted
// under the data keys, which do not change, so rotation touches small records only.
//
//   deno task keys:rotate [--batch N] [--max N] [--dry-run]
import { ConfigError, loadConfig } from "../src/config.ts";
import { Keyring } from "../src/crypto/envelope.ts";
import { loadKeys } from "../src/crypto/keys.ts";
import { openStore } from "../src/store/open.ts";

interface Options {
  batch: number;
  max: number;
  dryRun: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { batch: 500, max: Infinity, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--dry-run") o.dryRun = true;
    else if (a === "--batch" || a === "--max") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) {
        throw new ConfigError(`keys:rotate: ${a} needs a positive integer`);
      }
      if (a === "--batch") o.batch = n;
      else o.max = n;
    } else throw new ConfigError(`keys:rotate: unknown argument ${a}`);
  }
  return o;
}

/** Re-wraps up to `max` data keys; returns how many were re-wrapped and how many remain. */
export async function rotate(
  options: Options,
  log: (line: string) => void,
): Promise<{ rewrapped: number; remaining: number }> {
  const config = loadConfig(Deno.env.toObject());
  const keys = await loadKeys(config);
  const keyring = new Keyring(keys.encryption.keys, keys.encryption.activeKeyId);
  const store = await openStore(config);
  let rewrapped = 0;
  try {
    while (rewrapped < options.max) {
      const batch = await store.accounts.userKeysNotWrappedBy(
        keyring.activeKeyId,
        Math.min(options.batch, options.max - rewrapped),
      );
      if (batch.length === 0) break;
      if (options.dryRun) {
        log(`keys:rotate: at least ${batch.length} data keys are wrapped by an older key`);
        break;
      }
      for (const record of batch) {
        // Unwrap with the old key, wrap with the active one: the data key itself is unchanged.
        const raw = await keyring.unwrap(record);
        const { kekId, wrapped } = await keyring.wrap(record.userId, record.id, raw);
        await store.accounts.rewrapUserKey(record.id, wrapped, kekId);
        rewrapped++;
      }
      log(`keys:rotate: ${rewrapped} data keys re-wrapped under ${keyring.activeKeyId}`);
    }
    const remaining =
      (await store.accounts.userKeysNotWrappedBy(keyring.activeKeyId, 1_000_000)).length;
    return { rewrapped, remaining };
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  try {
    const options = parse(Deno.args);
    const { rewrapped, remaining } = await rotate(options, (l) => console.log(l));
    console.log(
      remaining === 0
        ? `keys:rotate: done: ${rewrapped} re-wrapped; every data key is under the active key, older keys may be removed from ENCRYPTION_KEYS`
        : `keys:rotate: stopped with ${remaining} data keys still under older keys; run again to continue`,
    );
    Deno.exit(remaining === 0 || options.dryRun ? 0 : 2);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `keys:rotate: ${err}`);
    Deno.exit(1);
  }
}
