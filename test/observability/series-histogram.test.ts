/**
 * SeriesHistogram keeps its numbers outside prom-client's Histogram but lets prom-client register
 * and format it. These tests pin what that relies on, so that a prom-client upgrade that changes
 * it fails here instead of silently emptying /metrics, and that every way around the series
 * store throws instead of losing observations.
 */
import { describe, expect, it } from 'bun:test'
import { Histogram, Registry } from 'prom-client'
import { SeriesHistogram } from '../../src/observability/series-histogram.ts'

const BUCKETS = [0.1, 0.5, 1]
const OBSERVATIONS: [{ method: string; status: number }, number][] = [
  [{ method: 'GET', status: 200 }, 0.05],
  [{ method: 'GET', status: 200 }, 0.3],
  [{ method: 'GET', status: 200 }, 7],
  [{ method: 'PUT', status: 412 }, 0.1],
]

function seriesHistogram(registry = new Registry()) {
  const histogram = new SeriesHistogram({
    name: 'demo_seconds',
    help: 'Demo.',
    labelNames: ['method', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  })
  for (const [labels, value] of OBSERVATIONS) {
    histogram.series(`${labels.method} ${labels.status}`, () => labels).observe(value)
  }
  return { histogram, registry }
}

function plainHistogram(registry = new Registry()) {
  const histogram = new Histogram({
    name: 'demo_seconds',
    help: 'Demo.',
    labelNames: ['method', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  })
  for (const [labels, value] of OBSERVATIONS) histogram.observe(labels, value)
  return { histogram, registry }
}

const EXPOSITION = `# HELP demo_seconds Demo.
# TYPE demo_seconds histogram
demo_seconds_bucket{le="0.1",method="GET",status="200"} 1
demo_seconds_bucket{le="0.5",method="GET",status="200"} 2
demo_seconds_bucket{le="1",method="GET",status="200"} 2
demo_seconds_bucket{le="+Inf",method="GET",status="200"} 3
demo_seconds_sum{method="GET",status="200"} 7.35
demo_seconds_count{method="GET",status="200"} 3
demo_seconds_bucket{le="0.1",method="PUT",status="412"} 1
demo_seconds_bucket{le="0.5",method="PUT",status="412"} 1
demo_seconds_bucket{le="1",method="PUT",status="412"} 1
demo_seconds_bucket{le="+Inf",method="PUT",status="412"} 1
demo_seconds_sum{method="PUT",status="412"} 0.1
demo_seconds_count{method="PUT",status="412"} 1
`

/** The parts of a value both histograms must agree on. */
const essentials = (values: { labels: object; value: number; metricName?: string }[]) =>
  values.map(({ labels, value, metricName }) => ({ labels, value, metricName }))

describe('SeriesHistogram against prom-client', () => {
  it('when observed, then the registry writes exactly the expected exposition, the same as a plain Histogram given the same observations', async () => {
    expect(await seriesHistogram().registry.metrics()).toBe(EXPOSITION)
    expect(await plainHistogram().registry.metrics()).toBe(EXPOSITION)
  })

  it("when asked with get(), then it answers the shape of a plain Histogram's get()", async () => {
    const ours = await seriesHistogram().histogram.get()
    const theirs = await plainHistogram().histogram.get()
    expect({ ...ours, values: essentials(ours.values), collect: undefined }).toEqual({
      ...theirs,
      values: essentials(theirs.values),
      collect: undefined,
    })
    expect(ours.type as unknown).toBe('histogram')
  })

  it('when the registry is asked for JSON, then it sees the same series as the text', async () => {
    const [ours] = await seriesHistogram().registry.getMetricsAsJSON()
    const [theirs] = await plainHistogram().registry.getMetricsAsJSON()
    expect(essentials(ours?.values ?? [])).toEqual(essentials(theirs?.values ?? []))
  })

  it('when prom-client is loaded, then the members SeriesHistogram overrides exist with the expected kinds', () => {
    // The registry prefers getForPromString() over get(); both are overridden.
    const formatter = (Registry.prototype as unknown as Record<string, unknown>).getMetricsAsString
    expect(String(formatter)).toContain('getForPromString')
    for (const method of ['get', 'getForPromString', 'reset', 'labels', 'startTimer', 'zero', 'remove']) {
      expect(typeof (Histogram.prototype as unknown as Record<string, unknown>)[method]).toBe('function')
    }
    // Histogram's constructor assigns observe on the instance (the override depends on it).
    const plain = new Histogram({ name: 'x_seconds', help: 'x', registers: [] })
    expect(Object.hasOwn(plain, 'observe')).toBe(true)
    // Metric's constructor calls reset() before a subclass's fields exist.
    let resetDuringConstruction = false
    class Probe extends Histogram<string> {
      readonly field = true
      override reset(): void {
        if ((this as { field?: boolean }).field === undefined) resetDuringConstruction = true
        super.reset()
      }
    }
    new Probe({ name: 'probe_seconds', help: 'x', registers: [] })
    expect(resetDuringConstruction).toBe(true)
  })
})

describe('SeriesHistogram misuse', () => {
  // Typed as the Histogram it also is: SeriesHistogram's own typings already refuse these calls.
  type Plain = Histogram<'method' | 'status'>
  const labels = { method: 'GET', status: 200 }
  it.each([
    ['observe', (h: Plain) => h.observe(labels, 1)],
    ['labels', (h: Plain) => h.labels(labels)],
    ['startTimer', (h: Plain) => h.startTimer(labels)],
    ['zero', (h: Plain) => h.zero(labels)],
    ['remove', (h: Plain) => h.remove(labels)],
  ])("when prom-client's own %s() is called, then it throws and the exposition is unchanged", async (name, call) => {
    const { histogram, registry } = seriesHistogram()
    expect(() => call(histogram as unknown as Plain)).toThrow(
      `demo_seconds: ${name}() would bypass this histogram's series`,
    )
    expect(await registry.metrics()).toBe(EXPOSITION)
  })

  it('when a series is resolved with an undeclared, a missing or a non-scalar label, then it throws naming them', () => {
    const { histogram } = seriesHistogram()
    const resolve = (labels: Record<string, unknown>) => () =>
      histogram.series(JSON.stringify(labels), () => labels as { method: string; status: number })
    expect(resolve({ method: 'GET', status: 200, route: '/x' })).toThrow('undeclared: route')
    expect(resolve({ method: 'GET' })).toThrow('missing: status')
    expect(resolve({ method: 'GET', status: {} })).toThrow('not a string or number: status')
  })

  it('when a value is not a finite number, then observe throws and nothing is counted', async () => {
    const { histogram, registry } = seriesHistogram()
    const series = histogram.series('GET 200', () => ({ method: 'GET', status: 200 }))
    expect(() => series.observe(Number.NaN)).toThrow('finite')
    expect(() => series.observe(Number.POSITIVE_INFINITY)).toThrow('finite')
    expect(await registry.metrics()).toBe(EXPOSITION)
  })

  it('when the registry resets its metrics, then the series a caller holds is zeroed and keeps counting', async () => {
    const { histogram, registry } = seriesHistogram()
    const held = histogram.series('GET 200', () => ({ method: 'GET', status: 200 }))
    registry.resetMetrics()
    held.observe(0.05)
    const text = await registry.metrics()
    expect(text).toContain('demo_seconds_count{method="GET",status="200"} 1\n')
    expect(text).toContain('demo_seconds_sum{method="GET",status="200"} 0.05\n')
    expect(text).toContain('demo_seconds_count{method="PUT",status="412"} 0\n')
  })
})
