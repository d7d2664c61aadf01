import { type CacheLookup, EPOCH, type ReadCache, type Versions } from "./cache.ts";

interface Entry {
  value: string;
  stamp: Versions;
  expiresAt: number;
}

/**
 * The in-process {@link ReadCache} for a single instance: entries in a map bounded by `maxEntries`
 * (least recently used go first), versions in another, bounded too. Forgetting versions also moves
 * the placeholder that stands for "no version yet" to a new generation, so a builder that read a
 * placeholder before a forgotten bump cannot store its entry.
 */
export class MemoryReadCache implements ReadCache {
  readonly kind = "memory" as const;
  #entries = new Map<string, Entry>();
  #versions = new Map<string, string>();
  #next = 0;
  #generation = 0;
  readonly #maxEntries: number;
  readonly #maxVersions: number;
  readonly #clock: () => number;

  constructor(options: { maxEntries?: number; clock?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxVersions = this.#maxEntries * 10;
    this.#clock = options.clock ?? Date.now;
  }

  read(key: string, deps: string[]): Promise<CacheLookup> {
    const entry = this.#entries.get(key);
    let value: string | null = null;
    if (entry) {
      this.#entries.delete(key);
      if (entry.expiresAt > this.#clock() && this.#current(entry.stamp)) {
        value = entry.value;
        this.#entries.set(key, entry);
      }
    }
    return Promise.resolve({ value, versions: this.#read(deps) });
  }

  versions(deps: string[]): Promise<Versions> {
    return Promise.resolve(this.#read(deps));
  }

  write(key: string, value: string, stamp: Versions, ttlMs: number): Promise<void> {
    if (!this.#current(stamp)) return Promise.resolve();
    const created: Versions = {};
    for (const [dep, v] of Object.entries(stamp)) {
      created[dep] = v === this.#placeholder() ? this.#set(dep) : v;
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, stamp: created, expiresAt: this.#clock() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return Promise.resolve();
  }

  bump(deps: string[]): Promise<void> {
    for (const dep of deps) this.#set(dep);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#entries.clear();
    this.#versions.clear();
    return Promise.resolve();
  }

  #read(deps: string[]): Versions {
    return Object.fromEntries(
      [EPOCH, ...deps].map((d) => [d, this.#versions.get(d) ?? this.#placeholder()]),
    );
  }

  #current(stamp: Versions): boolean {
    return Object.entries(stamp).every(([dep, v]) =>
      (this.#versions.get(dep) ?? this.#placeholder()) === v
    );
  }

  #placeholder(): string {
    return `~${this.#generation}`;
  }

  #set(dep: string): string {
    const token = (++this.#next).toString(36);
    this.#versions.delete(dep);
    this.#versions.set(dep, token);
    if (this.#versions.size > this.#maxVersions) {
      let drop = Math.ceil(this.#maxVersions / 10);
      for (const key of this.#versions.keys()) {
        if (drop-- <= 0 || key === dep) break;
        this.#versions.delete(key);
      }
      this.#generation++;
    }
    return token;
  }
}
