/**
 * A prom-client Histogram for the hot paths (every request, every store call). prom-client's own
 * observe() rebuilds and hashes the label set on each call, about a microsecond for three labels;
 * here a label combination is resolved once to its Series, callers keep or cache that handle,
 * and an observation is a bucket search and three additions. prom-client still registers,
 * names and formats the metric: only where the numbers live differs.
 */
import {
  Histogram,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
  type Registry,
} from 'prom-client'

export class Series<T extends string> {
  /** Per-bucket (not yet cumulative) counts, one per upper bound. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: LabelValues<T>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(value: number): void {
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

export interface SeriesHistogramConfiguration<T extends string> {
  name: string
  help: string
  labelNames: readonly T[]
  buckets: number[]
  registers: Registry[]
}

export class SeriesHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[]
  private readonly table = new Map<string, Series<T>>()
  private readonly metricName: string
  private readonly metricHelp: string

  constructor(configuration: SeriesHistogramConfiguration<T>) {
    super(configuration)
    this.bounds = [...configuration.buckets].sort((a, b) => a - b)
    this.metricName = configuration.name
    this.metricHelp = configuration.help
  }

  /** The series of one label combination; `key` must identify it (e.g. its values joined). */
  series(key: string, labels: () => LabelValues<T>): Series<T> {
    let series = this.table.get(key)
    if (!series) {
      series = new Series(labels(), this.bounds)
      this.table.set(key, series)
    }
    return series
  }

  /** Every series observed so far (for a counter of the same observations). */
  allSeries(): Iterable<Series<T>> {
    return this.table.values()
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const name = this.metricName
    const values: MetricValueWithName<T>[] = []
    for (const series of this.table.values()) {
      let cumulative = 0
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number
        values.push({ labels: { ...series.labels, le: bound }, value: cumulative, metricName: `${name}_bucket` })
      })
      values.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${name}_bucket` })
      values.push({ labels: series.labels, value: series.sum, metricName: `${name}_sum` })
      values.push({ labels: series.labels, value: series.count, metricName: `${name}_count` })
    }
    // prom-client's typings declare the type as a numeric enum; at run time it is this string.
    const type = 'histogram' as unknown as MetricObjectWithValues<MetricValueWithName<T>>['type']
    return { name, help: this.metricHelp, type, aggregator: 'sum', values, collect: () => {} }
  }

  /** The registry formats from this when present; it must see the same series as get(). */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    return this.get()
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    this.table?.clear()
  }
}
