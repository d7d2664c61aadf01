import { type Config, ConfigError } from "../config.ts";
import { readOrCreateSecretFile } from "../crypto/keys.ts";
import { generateVapidKeys } from "./webpush.ts";

/** The application server's VAPID identity (RFC 8292): a P-256 key pair and a contact. */
export interface VapidKeys {
  /** base64url of the 65-byte uncompressed public point (what browsers get as applicationServerKey). */
  publicKey: string;
  /** base64url of the 32-byte private scalar. */
  privateKey: string;
  subject: string;
}

/**
 * The VAPID keys: from `VAPID_PUBLIC_KEY`/`VAPID_PRIVATE_KEY`/`VAPID_SUBJECT`; in development, when
 * unset, generated once into `DATA_DIR/vapid.json` (0600) and shared by the instances of that
 * directory. Production refuses to start without them (browsers bind subscriptions to the key, so it
 * must not change between deploys).
 */
export async function loadVapidKeys(config: Config): Promise<VapidKeys> {
  const { vapid } = config.push;
  if (vapid.publicKey && vapid.privateKey) {
    if (!vapid.subject && config.env === "production") {
      throw new ConfigError("invalid configuration: VAPID_SUBJECT is required in production");
    }
    return {
      publicKey: vapid.publicKey,
      privateKey: vapid.privateKey,
      subject: vapid.subject ?? "mailto:push@localhost",
    };
  }
  if (config.env === "production") {
    throw new ConfigError(
      "invalid configuration: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are required in production (generate values with: deno task keys:generate)",
    );
  }
  const file = await readOrCreateSecretFile(`${config.dataDir}/vapid.json`, generateVapidKeys);
  return { ...file, subject: vapid.subject ?? "mailto:push@localhost" };
}
