/**
 * The Grafana dashboard of the production render, checked with real tools: promtool parses
 * every query (each written into a rule file as a recording rule), every metric it names is one
 * a running service exports, and a real Prometheus server scraping a running service on its
 * METRICS_PORT evaluates every query to data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { stringify } from 'yaml'
import type { K8sObject } from '../deploy/render.ts'
import { inProcessService } from '../observability/in-process.ts'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { type SseStream, watch } from '../support/sse.ts'
import { waitFor } from '../support/wait.ts'
import {
  asSent,
  dashboardPanels,
  metricNames,
  type Panel,
  prometheus,
  promtoolOnRules,
  renderProduction,
  seriesNames,
} from './monitoring.ts'

/** The job name the ServiceMonitor gives (the Service's name); the queries select it. */
const JOB = 'config-service'
const TOKEN = 'dashboard-test-token'

let objects: K8sObject[]
let panels: Panel[]
let server: RunningServer
let metricsUrl: string

const queries = () =>
  panels.flatMap((panel) => panel.targets.map((t) => ({ where: `${panel.title} (${t.refId})`, expr: t.expr })))

beforeAll(async () => {
  objects = await renderProduction()
  panels = dashboardPanels(objects)
  server = await startServer({ env: { METRICS_PORT: '0', API_TOKEN: TOKEN } })
  const line = server.lines.find((l) => (l as { msg?: string }).msg === 'metrics listening') as { port: number }
  metricsUrl = `http://127.0.0.1:${line.port}`
}, 60_000)

afterAll(async () => {
  await server?.stop()
})

describe('the Grafana dashboard', () => {
  it('when the issue lists what to show, then there is a panel for each', () => {
    const titles = panels.map((p) => p.title.toLowerCase())
    for (const topic of [
      'request rate',
      'error ratio',
      'latency',
      'store latency',
      'configs stored',
      'watchers connected',
      'history',
      'auth',
      'memory',
      'event-loop lag',
    ]) {
      expect([topic, titles.some((t) => t.includes(topic))]).toEqual([topic, true])
    }
  })

  it('when promtool parses every query (as recording rules), then each is valid PromQL', async () => {
    const rules = queries().map((q, i) => ({ record: `dashboard:query_${i}`, expr: asSent(q.expr) }))
    const result = await promtoolOnRules(['check', 'rules', 'rules.yaml'], [{ name: 'dashboard', rules }])
    expect([result.code, result.output]).toEqual([0, expect.stringContaining(`SUCCESS: ${rules.length} rules found`)])
  })

  it('when promtool is given a broken query the same way, then it refuses it (the check above can fail)', async () => {
    const broken = [{ name: 'dashboard', rules: [{ record: 'broken', expr: 'sum(rate(x[1m])' }] }]
    expect((await promtoolOnRules(['check', 'rules', 'rules.yaml'], broken)).code).not.toBe(0)
  })

  it('when the queries name metrics, then each is one the running service exports', async () => {
    const exported = seriesNames(parseExposition(await (await fetch(`${metricsUrl}/metrics`)).text()))
    const unknown = queries().flatMap((q) =>
      metricNames(asSent(q.expr))
        .filter((name) => !exported.has(name))
        .map((name) => `${q.where}: ${name}`),
    )
    expect(unknown).toEqual([])
    expect(queries().every((q) => q.expr.includes(`job="${JOB}"`))).toBe(true)
  })

  it('when a service with no credential has answered nothing yet, then the auth panel already has its series, each at 0', async () => {
    const fresh = await inProcessService()
    try {
      const families = parseExposition(await (await fresh.request('/metrics')).text())
      const results = ['allowed', 'unauthenticated', 'forbidden']
      expect(results.map((result) => sampleValue(families, 'auth_decisions_total', { result }))).toEqual([0, 0, 0])
      expect(queries().some((q) => q.expr.includes('auth_decisions_total'))).toBe(true)
    } finally {
      await fresh.close()
    }
  })

  describe('on a real Prometheus server scraping the service', () => {
    let prom: Subprocess<'ignore', 'pipe', 'pipe'> | undefined
    let promUrl: string
    let dir: string
    let stream: SseStream | undefined
    let traffic: Promise<void> | undefined
    let trafficOn = true

    beforeAll(async () => {
      dir = tempDir('prometheus-')
      const target = new URL(metricsUrl).host
      writeFileSync(
        join(dir, 'prometheus.yml'),
        stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          // The labels the Prometheus Operator adds from the ServiceMonitor's Service and pod.
          scrape_configs: [
            {
              job_name: JOB,
              static_configs: [{ targets: [target], labels: { namespace: 'test', pod: 'config-service-0' } }],
            },
          ],
        }),
      )
      const port = freePort()
      promUrl = `http://127.0.0.1:${port}`
      prom = Bun.spawn(
        [
          prometheus(),
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
      )
      stream = await watch(server.url)
      traffic = sendTraffic(server.url, () => trafficOn)
      // Refused connections until it listens.
      const ready = () =>
        fetch(`${promUrl}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )
      await waitFor(ready, 20_000, 'Prometheus to be ready')
    }, 60_000)

    afterAll(async () => {
      trafficOn = false
      await traffic
      stream?.close()
      prom?.kill()
      await prom?.exited
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('when every dashboard query is evaluated, then each returns data with a number in it', async () => {
      const empty = async () => {
        const missing: string[] = []
        for (const q of queries()) {
          const result = await instantQuery(promUrl, asSent(q.expr))
          if (!result.some(([, value]) => Number.isFinite(Number(value)))) missing.push(q.where)
        }
        return missing
      }
      // Rates need two scrapes in the window, and the event-loop lag a few seconds of running.
      let missing = await empty()
      const deadline = Date.now() + 30_000
      while (missing.length > 0 && Date.now() < deadline) {
        await Bun.sleep(1000)
        missing = await empty()
      }
      expect(missing).toEqual([])
    }, 60_000)

    it('when Prometheus lists its target, then it scrapes the metrics port and finds it up', async () => {
      const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: { scrapeUrl: string; health: string }[] }
      }
      expect(targets.data.activeTargets.map((t) => [t.scrapeUrl, t.health])).toEqual([[`${metricsUrl}/metrics`, 'up']])
    })
  })
})

/** What a user does, on a loop: reads, writes of every kind, a 404 and a refused write (401). */
async function sendTraffic(base: string, running: () => boolean): Promise<void> {
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  for (let i = 0; running(); i++) {
    const name = `dash-${i}`
    const body = JSON.stringify({ dcname: name, metadata: { monitoring: { enabled: true } } })
    await fetch(`${base}/configs`, { method: 'POST', headers: auth, body })
    await fetch(`${base}/configs/${name}`, { method: 'PUT', headers: auth, body })
    await fetch(`${base}/configs/${name}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/merge-patch+json' },
      body: '{"metadata":{"team":"a"}}',
    })
    await fetch(`${base}/configs/${name}`)
    await fetch(`${base}/configs`)
    await fetch(`${base}/search?metadata.monitoring.enabled=true`)
    await fetch(`${base}/configs/missing-${i}`)
    await fetch(`${base}/configs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    await fetch(`${base}/configs/${name}`, { method: 'DELETE', headers: auth })
    await Bun.sleep(100)
  }
}

async function instantQuery(promUrl: string, expr: string): Promise<[number, string][]> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await response.json()) as {
    status: string
    error?: string
    data: { result: { value: [number, string] }[] }
  }
  if (body.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${body.error}`)
  return body.data.result.map((r) => r.value)
}

function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}
