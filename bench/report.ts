/** Medians, ratios, targets, and the table printed on stdout. */
import type { SystemName } from './scenarios.ts'
import type { WrkRun } from './wrk.ts'

export interface ScenarioResult {
  scenario: string
  title: string
  connections: number
  baseline: SystemName
  /** Raw runs per system, in round order (rounds alternate service, baseline, service, ...). */
  runs: Partial<Record<SystemName, WrkRun[]>>
  medianRps: Partial<Record<SystemName, number>>
  /** service rps / baseline rps, per round. */
  ratios: number[]
  medianRatio: number
  /** The service's latency, median over rounds. */
  latencyMs: { p50: number; p99: number }
}

export interface Target {
  name: string
  goal: string
  measured: string
  met: boolean | null
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export function summarize(
  base: Omit<ScenarioResult, 'medianRps' | 'ratios' | 'medianRatio' | 'latencyMs'>,
): ScenarioResult {
  const service = base.runs.service ?? []
  const baseline = base.runs[base.baseline] ?? []
  const medianRps: ScenarioResult['medianRps'] = {}
  for (const [name, runs] of Object.entries(base.runs)) medianRps[name as SystemName] = median(runs.map((r) => r.rps))
  const ratios = service.map((run, i) => run.rps / (baseline[i]?.rps ?? Number.NaN))
  return {
    ...base,
    medianRps,
    ratios,
    medianRatio: median(ratios),
    latencyMs: {
      p50: median(service.map((r) => r.latencyMs.p50)),
      p99: median(service.map((r) => r.latencyMs.p99)),
    },
  }
}

const BASELINE_LABEL: Record<SystemName, string> = {
  service: 'service',
  ceiling: 'Bun.serve ceiling',
  etcd: 'etcd',
}

const num = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-'

export function table(results: ScenarioResult[]): string {
  const header = [
    'scenario',
    'conns',
    'service req/s',
    'baseline',
    'baseline req/s',
    'ratio',
    'ratio per round',
    'p50 ms',
    'p99 ms',
  ]
  const rows = results.map((r) => [
    r.title,
    String(r.connections),
    num(r.medianRps.service ?? Number.NaN),
    BASELINE_LABEL[r.baseline],
    num(r.medianRps[r.baseline] ?? Number.NaN),
    `${num(r.medianRatio, 2)}x`,
    r.ratios.map((x) => num(x, 2)).join(' '),
    num(r.latencyMs.p50, 2),
    num(r.latencyMs.p99, 2),
  ])
  return markdownTable(header, rows)
}

export function targetsTable(targets: Target[]): string {
  return markdownTable(
    ['target', 'goal', 'measured', 'met'],
    targets.map((t) => [t.name, t.goal, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO']),
  )
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

export { num }
