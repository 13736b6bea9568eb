/**
 * A rollout request as its creator writes it, and the checks that turn it into a plan: the
 * durations, the waves against the configs the target resolved to, the gates this service can
 * evaluate. Every fault is a RolloutInvalidError naming where in the request it is.
 */
import { parseFilterKey } from '../filter-key.ts'
import { type RolloutChange, type RolloutGate, RolloutInvalidError, type RolloutTarget } from './rollout-model.ts'

export interface RolloutRequest {
  change: { merge?: Record<string, unknown>; metadata?: Record<string, unknown> }
  target: { prefix?: string; filters?: Record<string, string>; dcnames?: string[] }
  waves: ({ dcnames: string[] } | { percent: number })[]
  bake: string
  gates?: ({ prometheus: string } | { consumers: { applied: number; within: string } })[]
  approval?: { required: number }
  onFailure?: 'revert' | 'pause'
}

/** What the service running the rollout can evaluate. */
export interface GateSupport {
  prometheus: boolean
  consumers: boolean
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** A bake longer than a week is a forgotten rollout, not a careful one. */
const MAX_DURATION_MS = 7 * 24 * 3_600_000

/** `500ms`, `30s`, `5m`, `1h`, or combined as `1m30s`; undefined when it is none of them. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d{1,9})(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNITS[unit as string] ?? 0), 0)
  return ms <= MAX_DURATION_MS ? ms : undefined
}

export function changeOf(request: RolloutRequest): RolloutChange {
  const { merge, metadata } = request.change
  if ((merge === undefined) === (metadata === undefined)) {
    throw new RolloutInvalidError('the change must be either a merge patch or the whole metadata', [
      { pointer: '/change', message: 'give exactly one of merge and metadata' },
    ])
  }
  return merge !== undefined ? { merge } : { metadata: metadata as Record<string, unknown> }
}

export function targetOf(request: RolloutRequest): RolloutTarget {
  const { prefix, filters, dcnames } = request.target
  if (prefix === undefined && filters === undefined && dcnames === undefined) {
    throw new RolloutInvalidError('the target selects no configs', [
      { pointer: '/target', message: 'give a prefix, filters or dcnames' },
    ])
  }
  const parsed = Object.entries(filters ?? {}).map(([key, value]) => {
    const found = parseFilterKey(key)
    if ('problem' in found) {
      throw new RolloutInvalidError('a target filter is not valid', [
        { pointer: `/target/filters/${key}`, message: 'expected dcname or metadata.<path>' },
      ])
    }
    return { path: found.path, value }
  })
  return {
    ...(prefix === undefined ? {} : { prefix }),
    ...(filters === undefined ? {} : { filters: parsed }),
    ...(dcnames === undefined ? {} : { dcnames: [...new Set(dcnames)] }),
  }
}

export function bakeOf(request: RolloutRequest): number {
  const ms = parseDuration(request.bake)
  if (ms === undefined) throw invalidDuration('/bake')
  return ms
}

export function gatesOf(request: RolloutRequest, support: GateSupport): RolloutGate[] {
  return (request.gates ?? []).map((gate, i) => {
    if ('prometheus' in gate) {
      if (!support.prometheus) {
        throw new RolloutInvalidError('a Prometheus gate needs PROMETHEUS_URL, which this service does not have', [
          { pointer: `/gates/${i}/prometheus`, message: 'PROMETHEUS_URL is not set' },
        ])
      }
      return { prometheus: gate.prometheus }
    }
    if (!support.consumers) {
      throw new RolloutInvalidError('consumer gates are not supported by this build yet', [
        { pointer: `/gates/${i}/consumers`, message: 'not supported yet' },
      ])
    }
    const withinMs = parseDuration(gate.consumers.within)
    if (withinMs === undefined) throw invalidDuration(`/gates/${i}/consumers/within`)
    return { consumers: { applied: gate.consumers.applied, withinMs } }
  })
}

/**
 * The dcnames of each wave. A `{dcnames}` wave takes those (each must be targeted, and in no
 * earlier wave); a `{percent}` wave takes, of the targeted configs in dcname order, those up to
 * that share of all of them (cumulative: 10, 50, 100), less those earlier waves took. Together
 * the waves must take every targeted config, and no wave may be empty.
 */
export function resolveWaves(request: RolloutRequest, targeted: readonly string[]): string[][] {
  const remaining = new Set(targeted)
  const waves: string[][] = []
  let lastPercent = 0
  request.waves.forEach((wave, i) => {
    const pointer = `/waves/${i}`
    let names: string[]
    if ('dcnames' in wave) {
      const outside = wave.dcnames.find((name) => !remaining.has(name))
      if (outside !== undefined) {
        const why = targeted.includes(outside) ? 'is in an earlier wave' : 'is not targeted'
        throw new RolloutInvalidError(`wave ${i + 1} names ${JSON.stringify(outside)}, which ${why}`, [
          { pointer: `${pointer}/dcnames`, message: `${outside} ${why}` },
        ])
      }
      names = [...new Set(wave.dcnames)]
    } else {
      if (wave.percent <= lastPercent) {
        throw new RolloutInvalidError(`wave ${i + 1}: percents are cumulative and must grow`, [
          { pointer: `${pointer}/percent`, message: `must be more than ${lastPercent}` },
        ])
      }
      lastPercent = wave.percent
      const upTo = Math.ceil((targeted.length * wave.percent) / 100)
      names = targeted.slice(0, upTo).filter((name) => remaining.has(name))
    }
    if (names.length === 0) {
      throw new RolloutInvalidError(`wave ${i + 1} would change no config`, [{ pointer, message: 'empty wave' }])
    }
    for (const name of names) remaining.delete(name)
    waves.push(names)
  })
  if (remaining.size > 0) {
    const first = [...remaining][0]
    throw new RolloutInvalidError(`${remaining.size} targeted config(s) are in no wave, e.g. ${first}`, [
      { pointer: '/waves', message: 'the waves must cover every targeted config (end with percent 100)' },
    ])
  }
  return waves
}

function invalidDuration(pointer: string): RolloutInvalidError {
  return new RolloutInvalidError('a duration is not valid', [
    { pointer, message: 'expected a duration such as 500ms, 30s, 5m or 1h (at most 7 days)' },
  ])
}
