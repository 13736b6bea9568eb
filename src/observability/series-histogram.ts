/**
 * A prom-client Histogram for the hot paths (every request, every store call). prom-client's own
 * observe() rebuilds and hashes the label set on each call, about a microsecond for three labels;
 * here a label combination is resolved once to its Series, callers keep or cache that handle,
 * and an observation is a bucket search and three additions. prom-client still registers,
 * names and formats the metric: only where the numbers live differs.
 *
 * What this takes from prom-client (test/observability/series-histogram.test.ts pins each):
 * the registry formats a metric from `getForPromString()` when it has one, else from `get()`;
 * Metric's constructor calls `reset()` before a subclass's fields exist; Histogram's constructor
 * assigns `observe` on the instance. Histogram's own ways in (`observe`, `labels`, `startTimer`,
 * `zero`, `remove`) would write to a store nobody reads, so they throw instead.
 */
import {
  Histogram,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
  type Registry,
} from 'prom-client'
import { type Series, SeriesTable } from './series-table.ts'

export { Series, SeriesTable } from './series-table.ts'

interface SeriesHistogramConfiguration<T extends string> {
  name: string
  help: string
  labelNames: readonly T[]
  buckets: number[]
  registers: Registry[]
  /** The series to expose; a table of its own when left out. */
  table?: SeriesTable<T>
}

export class SeriesHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[]
  private readonly table: SeriesTable<T>
  private readonly metricName: string
  private readonly metricHelp: string

  constructor(configuration: SeriesHistogramConfiguration<T>) {
    super(configuration)
    this.table =
      configuration.table ?? new SeriesTable(configuration.name, configuration.labelNames, configuration.buckets)
    this.bounds = this.table.bounds
    this.metricName = configuration.name
    this.metricHelp = configuration.help
    // Histogram's constructor sets `observe` on the instance, so a method here would not win.
    this.observe = () => this.refuse('observe')
  }

  /** The series of one label combination; `key` must identify it (e.g. its values joined). */
  series(key: string, labels: () => LabelValues<T>): Series<T> {
    return this.table.series(key, labels)
  }

  private refuse(method: string): never {
    throw new Error(
      `${this.metricName}: ${method}() would bypass this histogram's series and be lost; use series(key, labels).observe(value)`,
    )
  }

  override labels(): never {
    return this.refuse('labels')
  }

  override startTimer(): never {
    return this.refuse('startTimer')
  }

  override zero(): never {
    return this.refuse('zero')
  }

  override remove(): never {
    return this.refuse('remove')
  }

  /** Every series observed so far (for a counter of the same observations). */
  allSeries(): Iterable<Series<T>> {
    return this.table.allSeries()
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const name = this.metricName
    const values: MetricValueWithName<T>[] = []
    for (const series of this.table.allSeries()) {
      let cumulative = 0
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${name}_bucket` })
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

  /**
   * Zeroes every series in place (a registry's `resetMetrics()`): callers keep their handles,
   * so dropping the series instead would lose whatever they observe next.
   */
  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields are set, having copied
    // the configuration (its `table` included) onto the instance: a shared table that already
    // holds observations must not be zeroed by merely being exposed.
    if (this.metricName === undefined) return
    this.table.reset()
  }
}
