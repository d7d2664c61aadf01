// Prints fresh production key values (JWT_KEYS, ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY_ID,
// URL_SIGNING_KEY) as shell assignments, e.g. for `fly secrets set`.
import { generateKeyValues } from "../src/crypto/keys.ts";

for (const [name, value] of Object.entries(await generateKeyValues())) {
  console.log(`${name}='${value}'`);
}
