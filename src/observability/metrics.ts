type Labels = Record<string, string>;

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",");
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function series(name: string, key: string, value: number, extra = ""): string {
  const labels = [key, extra].filter(Boolean).join(",");
  return `${name}${labels ? `{${labels}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

/** A monotonically increasing count, optionally split by labels. */
export class Counter implements Metric {
  readonly type = "counter";
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  /** The current value for `labels` (tests and the admin metrics read it). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    return [...this.#values].map(([k, v]) => series(this.name, k, v));
  }
}

/** A value that goes up and down; either set directly or computed when scraped. */
export class Gauge implements Metric {
  readonly type = "gauge";
  #values = new Map<string, number>();
  #collect?: () => Array<[Labels, number]>;
  constructor(readonly name: string, readonly help: string) {}
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), value);
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  /** Computes the series at scrape time instead of storing them. */
  collect(fn: () => Array<[Labels, number]>): void {
    this.#collect = fn;
  }
  render(): string[] {
    const entries: Array<[string, number]> = this.#collect
      ? this.#collect().map(([l, v]) => [labelKey(l), v])
      : [...this.#values];
    return entries.map(([k, v]) => series(this.name, k, v));
  }
}

/** Observations bucketed for percentiles (Prometheus `histogram`). */
export class Histogram implements Metric {
  readonly type = "histogram";
  #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines: string[] = [];
    for (const [key, s] of this.#series) {
      this.buckets.forEach((b, i) =>
        lines.push(series(`${this.name}_bucket`, key, s.counts[i], `le="${b}"`))
      );
      lines.push(series(`${this.name}_bucket`, key, s.count, `le="+Inf"`));
      lines.push(series(`${this.name}_sum`, key, s.sum));
      lines.push(series(`${this.name}_count`, key, s.count));
    }
    return lines;
  }
}

/**
 * The metrics of one instance, rendered in the Prometheus text exposition format (0.0.4) by `/metrics`.
 * Metric names are registered once; asking again returns the same metric.
 */
export class MetricsRegistry {
  #metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.#get(name, () => new Counter(name, help)) as Counter;
  }
  gauge(name: string, help: string): Gauge {
    return this.#get(name, () => new Gauge(name, help)) as Gauge;
  }
  histogram(name: string, help: string, buckets = DEFAULT_BUCKETS): Histogram {
    return this.#get(name, () => new Histogram(name, help, buckets)) as Histogram;
  }

  #get(name: string, make: () => Metric): Metric {
    let m = this.#metrics.get(name);
    if (!m) {
      m = make();
      this.#metrics.set(name, m);
    }
    return m;
  }

  /** The whole registry as Prometheus text. */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return out.join("\n") + "\n";
  }
}

/** Latency buckets in seconds, from 1 ms to 10 s. */
export const DEFAULT_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
