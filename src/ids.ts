const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A new opaque id: 26 characters of Crockford base32 (lower case), a 48-bit millisecond timestamp then
 * 80 random bits, so ids sort roughly by creation time and never collide in practice.
 */
export function newId(now = Date.now()): string {
  let out = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  const rnd = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 16; i++) out += ALPHABET[rnd[i] & 31];
  return out;
}

/** The current time as an ISO-8601 UTC string with milliseconds, the only time format on the wire. */
export function nowIso(): string {
  return new Date().toISOString();
}
