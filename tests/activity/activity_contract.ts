import assert from "node:assert/strict";
import type { ActivityLedger } from "../../src/activity/activity.ts";
import { daysEnding } from "../../src/domain/privacy.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/** Makes a fresh, empty ledger for one test and disposes of it afterwards. */
export type LedgerFactory = () => Promise<{ ledger: ActivityLedger; close: () => Promise<void> }>;

/**
 * Asserts a distinct count: exactly for exact ledgers, within 2% (at least 1) for estimating ones
 * (HyperLogLog's standard error is 0.81%).
 */
function assertCount(ledger: ActivityLedger, actual: number, expected: number, what: string) {
  const slack = ledger.exact ? 0 : Math.max(1, Math.ceil(expected * 0.02));
  assert.ok(
    Math.abs(actual - expected) <= slack,
    `${what}: ${actual}, expected ${expected}${slack ? ` ± ${slack}` : ""}`,
  );
}

/**
 * The behaviour every {@link ActivityLedger} adapter must have. The tests run sanitized unless
 * `sanitizers` turns that off.
 */
export function runActivityContract(
  name: string,
  factory: LedgerFactory,
  sanitizers: Sanitizers = sanitized,
): void {
  const test = (title: string, fn: (ledger: ActivityLedger) => Promise<void>) =>
    Deno.test({
      name: `${name} activity: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { ledger, close } = await factory();
        try {
          await fn(ledger);
        } finally {
          await close();
        }
      },
    });

  test("a user counts once per day however often they are marked", async (l) => {
    await l.markActive("2026-05-01", ["a", "b", "a"]);
    await l.markActive("2026-05-01", ["b", "c"]);
    await l.markActive("2026-05-01", []);
    assertCount(l, await l.countActive(["2026-05-01"]), 3, "DAU");
    assert.equal(await l.countActive(["2026-05-02"]), 0, "a day without activity");
    assert.equal(await l.countActive([]), 0, "no days");
  });

  test("counts over several days are distinct users, not a sum of days", async (l) => {
    await l.markActive("2026-05-01", ["a", "b", "c"]);
    await l.markActive("2026-05-02", ["b", "c", "d"]);
    await l.markActive("2026-05-03", ["e"]);
    assertCount(l, await l.countActive(["2026-05-01", "2026-05-02", "2026-05-03"]), 5, "union");
    assertCount(l, await l.countActive(["2026-05-02", "2026-05-03"]), 4, "two days");
    assertCount(l, await l.countActive(["2026-04-30", "2026-05-03"]), 1, "with an empty day");
  });

  test("DAU, WAU and MAU of a scripted month match a model", async (l) => {
    // User i is active on the days i % 7 == d % 7, plus a few daily regulars.
    const days = daysEnding("2026-06-30", 40);
    const model = new Map<string, Set<string>>();
    for (const [d, day] of days.entries()) {
      const users = ["regular-1", "regular-2"];
      for (let i = 0; i < 60; i++) if (i % 7 === d % 7) users.push(`user-${i}`);
      model.set(day, new Set(users));
      await l.markActive(day, users);
    }
    const distinct = (window: string[]) =>
      new Set(window.flatMap((d) => [...model.get(d) ?? []])).size;
    for (const day of ["2026-06-30", "2026-06-10"]) {
      const week = daysEnding(day, 7);
      const month = daysEnding(day, 30);
      assertCount(l, await l.countActive([day]), model.get(day)!.size, `DAU ${day}`);
      assertCount(l, await l.countActive(week), distinct(week), `WAU ${day}`);
      assertCount(l, await l.countActive(month), distinct(month), `MAU ${day}`);
    }
    assert.equal(
      distinct(daysEnding("2026-06-30", 7)),
      62,
      "the model itself: all users in a week",
    );
  });

  test("a day with thousands of users counts them (estimates stay close)", async (l) => {
    const users = Array.from({ length: 5000 }, (_, i) => `u-${i}-${crypto.randomUUID()}`);
    await l.markActive("2026-07-01", users);
    await l.markActive("2026-07-02", users.slice(0, 2500));
    assertCount(l, await l.countActive(["2026-07-01"]), 5000, "DAU");
    assertCount(l, await l.countActive(["2026-07-01", "2026-07-02"]), 5000, "two days");
    assertCount(l, await l.countActive(["2026-07-02"]), 2500, "second day");
  });

  test("counters add up per day and stay apart between days", async (l) => {
    await l.addCounts("2026-05-01", { messages: 3, "media.image": 1 });
    await l.addCounts("2026-05-01", { messages: 2, registrations: 1, "media.video": 0 });
    await l.addCounts("2026-05-02", { "media.audio": 4 });
    await l.addCounts("2026-05-03", {});
    const counts = await l.counts(["2026-05-01", "2026-05-02", "2026-05-03"]);
    assert.deepEqual(counts.get("2026-05-01"), { messages: 5, "media.image": 1, registrations: 1 });
    assert.deepEqual(counts.get("2026-05-02"), { "media.audio": 4 });
    assert.equal(counts.has("2026-05-03"), false);
    assert.deepEqual(await l.counts([]), new Map());
  });
}
