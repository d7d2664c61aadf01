/**
 * Rows of (message, key, user) in the order they count (first use, then each user in turn), grouped
 * per message into entries per key in order of the key's first row, each listing its users in row
 * order: reactions per emoji, votes per option. Adapters share it so both read the same shape.
 */
export function groupUsers<T extends { userIds: string[] }>(
  rows: Iterable<{ messageId: string; key: string; userId: string }>,
  make: (key: string) => T,
  keyOf: (entry: T) => string,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    let entries = out.get(r.messageId);
    if (!entries) out.set(r.messageId, entries = []);
    let entry = entries.find((e) => keyOf(e) === r.key);
    if (!entry) entries.push(entry = make(r.key));
    entry.userIds.push(r.userId);
  }
  return out;
}
