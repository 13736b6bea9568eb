/**
 * The production alerts, checked with the real promtool: the rendered rules load, each alert
 * fires and stays quiet where it should on synthetic series (alerts.promtest.yaml), each has
 * a runbook in docs/OPERATIONS.md, and each reads only series that exist.
 */
import { beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { K8sObject } from '../deploy/render.ts'
import { parseExposition } from '../support/exposition-parser.ts'
import { ROOT, startServer } from '../support/server.ts'
import {
  type AlertRule,
  metricNames,
  promtoolOnRules,
  renderProduction,
  ruleGroups,
  seriesNames,
} from './monitoring.ts'

const UNIT_TESTS = join(import.meta.dir, 'alerts.promtest.yaml')

/** Series an alert may read that the service does not export: kube-state-metrics' (part of kube-prometheus-stack). */
const FROM_ELSEWHERE = [/^kube_deployment_/]

let objects: K8sObject[]
let rules: AlertRule[]

beforeAll(async () => {
  objects = await renderProduction()
  rules = ruleGroups(objects).flatMap((g) => g.rules)
}, 30_000)

describe('production alerts', () => {
  it('when promtool checks the rendered rules, then they load without a problem', async () => {
    const result = await promtoolOnRules(['check', 'rules', 'rules.yaml'], ruleGroups(objects))
    expect([result.code, result.output]).toEqual([0, expect.stringContaining(`SUCCESS: ${rules.length} rules found`)])
  })

  it('when promtool runs the unit tests on synthetic series, then every alert fires and stays quiet as expected', async () => {
    const result = await promtoolOnRules(['test', 'rules', 'alerts.promtest.yaml'], ruleGroups(objects), {
      'alerts.promtest.yaml': readFileSync(UNIT_TESTS, 'utf8'),
    })
    expect([result.code, result.output]).toEqual([0, expect.stringContaining('SUCCESS')])
  })

  it('when the unit tests are read, then each alert has a case where it fires and one where it must not', () => {
    type Case = { alertname: string; exp_alerts: unknown[] }
    const tests: { alert_rule_test: Case[] }[] = parse(readFileSync(UNIT_TESTS, 'utf8')).tests
    const cases = tests.flatMap((t) => t.alert_rule_test)
    const missing = rules.flatMap((rule) => {
      const own = cases.filter((c) => c.alertname === rule.alert)
      return [
        ...(own.some((c) => c.exp_alerts.length > 0) ? [] : [`${rule.alert} never fires`]),
        ...(own.some((c) => c.exp_alerts.length === 0) ? [] : [`${rule.alert} is never expected quiet`]),
      ]
    })
    expect(missing).toEqual([])
  })

  it('when the issue asks for alerts, then errors, latency, replicas, store, watchers, dropped lines and rollouts are covered', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ConfigServiceHighErrorRatio',
      'ConfigServiceHighLatency',
      'ConfigServiceLogLinesDropped',
      'ConfigServiceNoReadyReplica',
      'ConfigServiceReplicasUnavailable',
      'ConfigServiceRolloutReverted',
      'ConfigServiceRolloutStuck',
      'ConfigServiceStoreUnavailable',
      'ConfigServiceWatchersDropped',
    ])
  })

  it('when an alert fires, then docs/OPERATIONS.md has its runbook under its name', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8')
    const runbook = operations.slice(operations.indexOf('\n## Runbook\n'))
    const missing = rules
      .filter((rule) => !runbook.includes(`\n**${rule.alert}** (${rule.labels.severity}).`))
      .map((rule) => rule.alert)
    expect(missing).toEqual([])
  })

  it('when the alerts read metrics, then each is one a running service exports or one named as coming from elsewhere', async () => {
    const server = await startServer()
    try {
      const exported = seriesNames(parseExposition(await (await fetch(`${server.url}/metrics`)).text()))
      const unknown = rules.flatMap((rule) =>
        metricNames(rule.expr)
          .filter((name) => !exported.has(name) && !FROM_ELSEWHERE.some((pattern) => pattern.test(name)))
          .map((name) => `${rule.alert}: ${name}`),
      )
      expect(unknown).toEqual([])
    } finally {
      await server.stop()
    }
  }, 60_000)
})
