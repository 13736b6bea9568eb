/**
 * What the monitoring tests share: the production render's PrometheusRule and Grafana
 * dashboard, the real promtool and Prometheus binaries (Debian's `prometheus`, installed by
 * test/support/ensure-prometheus.sh), and the metric names a PromQL expression reads, found
 * with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import { stringify } from 'yaml'
import { type K8sObject, kustomizeCopy, must, render } from '../deploy/render.ts'
import type { Family } from '../support/exposition-parser.ts'

function binary(name: string): string {
  const path = Bun.which(name)
  if (!path) throw new Error(`${name} is not on PATH: run test/support/ensure-prometheus.sh (make test does)`)
  return path
}

export const promtool = () => binary('promtool')
export const prometheus = () => binary('prometheus')

/** The production overlay, rendered by the real kubectl from a clone-like copy. */
export async function renderProduction(): Promise<K8sObject[]> {
  const dir = kustomizeCopy()
  try {
    return await render(join(dir, 'overlays/production'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

export function ruleGroups(objects: K8sObject[]): { name: string; rules: AlertRule[] }[] {
  return must(objects, 'PrometheusRule', 'config-service').spec.groups
}

export interface Panel {
  id: number
  title: string
  targets: { refId: string; expr: string }[]
}

export function dashboardPanels(objects: K8sObject[]): Panel[] {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
  if (!configMap) throw new Error('no ConfigMap labelled grafana_dashboard: "1" in the render')
  return JSON.parse(configMap.data['config-service.json']).panels
}

/**
 * Grafana's `$__rate_interval` (at least four scrape intervals) as a fixed window, so that
 * promtool and Prometheus, which know no Grafana variables, read the expression as Grafana sends it.
 */
export function asSent(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll('$__rate_interval', rateInterval)
}

/** The metric names of an expression's selectors; throws on a selector without one. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>()
  const problems: string[] = []
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return
      const identifier = node.node.getChild('Identifier')
      if (identifier) names.add(expr.slice(identifier.from, identifier.to))
      else problems.push(`a selector without a metric name: ${expr.slice(node.from, node.to)}`)
    },
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return [...names].sort()
}

/**
 * The names a query can select from a scrape: each family's own, and for histograms and
 * summaries their `_bucket`, `_sum` and `_count` series, whether or not they have samples yet.
 */
export function seriesNames(families: Map<string, Family>): Set<string> {
  const names = new Set<string>()
  for (const family of families.values()) {
    if (family.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix)
    else if (family.type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(family.name + suffix)
    else names.add(family.name)
  }
  return names
}

/**
 * Runs promtool in a temp dir holding `rules.yaml` with these groups (the file Prometheus itself
 * would load) and any other `files`; resolves with its exit code and output.
 */
export async function promtoolOnRules(args: string[], groups: unknown[], files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'promtool-'))
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }))
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    const child = Bun.spawn([promtool(), ...args], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    return { code, output: `${stdout}${stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
