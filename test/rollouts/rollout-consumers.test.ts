/**
 * Rollouts gated by the consumers' acknowledgements, through the real service in-process:
 * consumers report on PUT /configs/{dcname}/consumers/{consumer}, as `configctl agent` does. A
 * bake does not end while too few consumers applied the rollout's revisions; a rejection, or too
 * few acknowledgements once `within` has passed, reverts; the consumers' states are read back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createConfigs, type Json, rolloutService } from './rollout-service.ts'

const REQUEST = {
  change: { merge: { replicas: 2 } },
  target: { prefix: 'app-' },
  waves: [{ percent: 50 }, { percent: 100 }],
  bake: '1m',
  gates: [{ consumers: { applied: 1, within: '10m' } }],
}

describe('rollouts gated by consumers', () => {
  let env: Awaited<ReturnType<typeof rolloutService>>
  let names: string[]

  beforeEach(async () => {
    env = await rolloutService()
    names = await createConfigs(env.send, 'app-', 4)
    // One consumer per config, running the revision it has now.
    for (const dcname of names) await report(dcname, 'applied')
  })

  afterEach(async () => {
    await env.close()
  })

  /** `pod-<dcname>` reports `state` of the config's current revision. */
  async function report(dcname: string, state: 'applied' | 'rejected', message?: string) {
    const { headers } = await env.send('GET', `/configs/${dcname}`)
    const revision = Number(headers.get('etag')?.replaceAll('"', ''))
    const answer = await env.send('PUT', `/configs/${dcname}/consumers/pod-${dcname}`, { revision, state, message })
    expect(answer.status).toBeLessThan(300)
  }

  const start = async () => (await env.send('POST', '/rollouts', REQUEST)).body.id as string

  it('when the bake ends before the consumers applied the new revisions, then it waits for them, and goes on once they have', async () => {
    const id = await start()
    await env.until(id, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
    env.clock.advance(60_000)
    await env.service.rollouts.driver.tick()
    expect(await env.rollout(id)).toMatchObject({ status: 'baking', wave: 0 })
    for (const dcname of ['app-000', 'app-001']) await report(dcname, 'applied')
    await env.until(id, (r) => r.status === 'baking' && r.wave === 1, 'wave 2 baking')
    const consumers = (await env.send('GET', '/configs/app-000/consumers')).body as unknown as Json[]
    expect(consumers).toEqual([expect.objectContaining({ consumer: 'pod-app-000', status: 'applied' })])
  })

  it('when a consumer rejects a revision the rollout wrote, then the rollout reverts naming it', async () => {
    const id = await start()
    await env.until(id, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
    await report('app-001', 'rejected', 'check failed: replicas')
    const done = await env.until(id, (r) => r.status === 'reverted', 'the revert')
    const written = (done.configs as Json[]).find((c) => c.dcname === 'app-001')?.applied
    expect(done.reason).toBe(
      `wave 1: consumer pod-app-001 of app-001 rejected revision ${written}: check failed: replicas`,
    )
    for (const dcname of names)
      expect((await env.send('GET', `/configs/${dcname}`)).body.metadata).toMatchObject({ replicas: 1 })
  })

  it('when too few consumers applied once within has passed, then the rollout reverts saying how many did', async () => {
    const id = await start()
    await env.until(id, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
    await report('app-000', 'applied')
    env.clock.advance(10 * 60_000)
    const done = await env.until(id, (r) => r.status === 'reverted', 'the revert')
    expect(done.reason).toContain('1 of 2 consumers applied')
  })
})
