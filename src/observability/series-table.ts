/**
 * Where the numbers of a SeriesHistogram live (series-histogram.ts), with no prom-client in it:
 * the hot paths observe into these from the first request, while prom-client itself is loaded
 * only when the metrics are first scraped (metrics.ts). A label combination is resolved once to
 * its Series; callers keep or cache that handle, and an observation is a bucket search and
 * three additions.
 */

/** Label values by name, as prom-client takes them. */
export type Labels<T extends string> = Partial<Record<T, string | number>>

export class Series<T extends string> {
  /** Per-bucket (not yet cumulative) counts, one per upper bound. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: Labels<T>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`a histogram observes finite numbers, not ${value}`)
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1
        break
      }
    }
    this.sum += value
    this.count++
  }
}

export class SeriesTable<T extends string> {
  readonly bounds: readonly number[]
  private readonly table = new Map<string, Series<T>>()
  private readonly declaredLabels: ReadonlySet<string>

  constructor(
    readonly name: string,
    labelNames: readonly T[],
    buckets: readonly number[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b)
    this.declaredLabels = new Set(labelNames)
  }

  /** The series of one label combination; `key` must identify it (e.g. its values joined). */
  series(key: string, labels: () => Labels<T>): Series<T> {
    let series = this.table.get(key)
    if (!series) {
      series = new Series(this.checked(labels()), this.bounds)
      this.table.set(key, series)
    }
    return series
  }

  /** Every series observed so far. */
  allSeries(): Iterable<Series<T>> {
    return this.table.values()
  }

  /** Zeroes every series in place: callers keep their handles. */
  reset(): void {
    for (const series of this.table.values()) {
      series.counts.fill(0)
      series.sum = 0
      series.count = 0
    }
  }

  /** Exactly the declared label names, each with a string or number (once per combination). */
  private checked(labels: Labels<T>): Labels<T> {
    const names = Object.keys(labels)
    const wrong = names.filter((name) => !this.declaredLabels.has(name))
    const missing = [...this.declaredLabels].filter((name) => !names.includes(name))
    const untyped = names.filter((name) => !['string', 'number'].includes(typeof labels[name as T]))
    if (wrong.length > 0 || missing.length > 0 || untyped.length > 0) {
      throw new Error(
        `${this.name}: labels must be exactly ${[...this.declaredLabels].join(', ')} with string or number values` +
          ` (undeclared: ${wrong.join(', ') || 'none'}; missing: ${missing.join(', ') || 'none'}; not a string or number: ${untyped.join(', ') || 'none'})`,
      )
    }
    return labels
  }
}
