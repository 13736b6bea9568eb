/**
 * The "done when": a rollout over 100 configs in 4 waves, gated by a real Prometheus
 * scraping a fake workload. A gate that fails during wave 3 reverts waves 1-3 exactly (every
 * config back to its pre-rollout state, each step in its history); a passing one reaches 100%.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type ScrapingPrometheus, startPrometheus } from '../support/prometheus.ts'
import { createConfigs, type Json, rolloutService } from './rollout-service.ts'

const HOUR = 3_600_000

describe('rollouts gated by Prometheus', () => {
  let prometheus: ScrapingPrometheus
  let env: Awaited<ReturnType<typeof rolloutService>>

  beforeAll(async () => {
    prometheus = await startPrometheus()
    prometheus.workload.setErrors('fail', 0)
    prometheus.workload.setErrors('pass', 0)
    env = await rolloutService({ PROMETHEUS_URL: prometheus.url })
  }, 60_000)

  afterAll(async () => {
    await env?.close()
    await prometheus?.close()
  })

  const start = async (prefix: string, test: string) => {
    const created = await env.send('POST', '/rollouts', {
      change: { merge: { replicas: 2 } },
      target: { prefix },
      waves: [{ percent: 25 }, { percent: 50 }, { percent: 75 }, { percent: 100 }],
      bake: '1h',
      gates: [{ prometheus: `workload_errors_total{test="${test}"} > 0` }],
    })
    expect(created.status).toBe(201)
    return created.body.id as string
  }

  /** Waits for wave `wave` (0-based) to bake, then ends its bake by moving the clock. */
  const bakeWave = async (id: string, wave: number) => {
    await env.until(id, (r) => r.status === 'baking' && r.wave === wave, `wave ${wave + 1} baking`)
    env.clock.advance(HOUR)
  }

  it('when the gate fails in wave 3, then waves 1-3 are reverted exactly and wave 4 never starts', async () => {
    const names = await createConfigs(env.send, 'shop-', 100)
    const before = new Map<string, Json>()
    for (const dcname of names) before.set(dcname, (await env.send('GET', `/configs/${dcname}`)).body)
    const id = await start('shop-', 'fail')
    await bakeWave(id, 0)
    await bakeWave(id, 1)
    await env.until(id, (r) => r.status === 'baking' && r.wave === 2, 'wave 3 baking')
    prometheus.workload.setErrors('fail', 3)
    const done = await env.until(id, (r) => r.status === 'reverted', 'the revert')

    expect(done.reason).toContain('workload_errors_total')
    const configs = done.configs as Json[]
    expect(configs.filter((c) => c.state === 'reverted')).toHaveLength(75)
    expect(configs.filter((c) => c.state === 'pending' && c.wave === 3)).toHaveLength(25)
    for (const dcname of names) {
      const now = (await env.send('GET', `/configs/${dcname}`)).body
      expect(now.metadata).toEqual(before.get(dcname)?.metadata as Json)
      const history = (await env.send('GET', `/configs/${dcname}/history`)).body as unknown as Json[]
      const progress = configs.find((c) => c.dcname === dcname) as Json
      if (progress.wave === 3) {
        expect(history).toHaveLength(1)
        continue
      }
      // Newest first: the revert (to the pre-rollout revision), the rollout's write, the creation.
      expect(history.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'ADDED'])
      const [revert, change, created] = history as Json[]
      expect(change).toMatchObject({ rollout: id, revision: progress.applied })
      expect((change as Json).config).toMatchObject({ metadata: { replicas: 2 } })
      expect(revert).toMatchObject({ rollout: id, rollbackOf: created?.revision, revision: progress.reverted })
      expect(progress.before).toBe(created?.revision)
    }
    const events = (done.timeline as Json[]).map((e) => e.event)
    expect(events).toEqual([
      'created',
      'wave-started',
      'wave-applied',
      'wave-baked',
      'wave-started',
      'wave-applied',
      'wave-baked',
      'wave-started',
      'wave-applied',
      'gate-failed',
      'reverted',
    ])
  }, 120_000)

  it('when the gate passes in every wave, then the change reaches 100% and the rollout completes', async () => {
    const names = await createConfigs(env.send, 'cart-', 100)
    const id = await start('cart-', 'pass')
    for (const wave of [0, 1, 2, 3]) await bakeWave(id, wave)
    const done = await env.until(id, (r) => r.status === 'completed', 'completion')
    expect((done.configs as Json[]).every((c) => c.state === 'applied')).toBe(true)
    for (const dcname of names) {
      const now = (await env.send('GET', `/configs/${dcname}`)).body
      expect(now.metadata).toEqual({ replicas: 2, team: 'checkout' })
      const [last] = (await env.send('GET', `/configs/${dcname}/history`)).body as unknown as Json[]
      expect(last).toMatchObject({ rollout: id, actor: 'anonymous' })
    }
  }, 120_000)
})
