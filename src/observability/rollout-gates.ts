/**
 * The gates of rollouts as this service evaluates them. A Prometheus gate is an alert
 * expression: it passes while the query returns no series, and fails naming the first series it
 * returned. Prometheus unreachable, or refusing the query, is `unavailable`: it says nothing
 * against the change, so the rollout pauses (never reverts) until someone looks.
 */
import { type ConsumerSummaries, consumersGate } from '../configs/rollouts/consumers-gate.ts'
import type { GateEvaluator, GateVerdict } from '../configs/rollouts/rollout-gates.ts'
import type { RolloutGate } from '../configs/rollouts/rollout-model.ts'

export interface GateOptions {
  /** PROMETHEUS_URL; undefined: Prometheus gates are refused when a rollout is created. */
  prometheusUrl?: string
  /** How long one query may take. */
  timeoutMs?: number
  /** The consumers' reports, for consumer gates; undefined: such gates are refused when created. */
  consumers?: ConsumerSummaries
  /** The driver's clock (a consumer gate's `within` is measured with it). */
  now?: () => number
}

interface QueryAnswer {
  status?: string
  error?: string
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] | unknown }
}

export function rolloutGates(options: GateOptions): GateEvaluator {
  return {
    async evaluate(gate: RolloutGate, rollout): Promise<GateVerdict> {
      if ('prometheus' in gate) return prometheusGate(options, gate.prometheus)
      if (!options.consumers) return { pass: false, unavailable: true, reason: 'consumer reports are not available' }
      return consumersGate(gate.consumers, rollout, options.consumers, (options.now ?? Date.now)())
    },
  }
}

async function prometheusGate(options: GateOptions, query: string): Promise<GateVerdict> {
  if (!options.prometheusUrl) return { pass: false, unavailable: true, reason: 'PROMETHEUS_URL is not set' }
  const url = new URL(
    'api/v1/query',
    options.prometheusUrl.endsWith('/') ? options.prometheusUrl : `${options.prometheusUrl}/`,
  )
  url.searchParams.set('query', query)
  let answer: QueryAnswer
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) })
    answer = (await response.json()) as QueryAnswer
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    return { pass: false, unavailable: true, reason: `Prometheus could not be asked: ${why}` }
  }
  if (answer.status !== 'success') {
    return {
      pass: false,
      unavailable: true,
      reason: `Prometheus refused the query: ${answer.error ?? 'no reason given'}`,
    }
  }
  const result = answer.data?.result
  // A scalar or string result is no set of series: treated as none (it cannot be an alert).
  if (!Array.isArray(result) || result.length === 0) return { pass: true }
  const [first] = result
  const labels = Object.entries(first?.metric ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')
  return {
    pass: false,
    reason:
      `gate prometheus ${JSON.stringify(query)} returned ${result.length} series, e.g. {${labels}} ${first?.value?.[1] ?? ''}`.trim(),
  }
}
