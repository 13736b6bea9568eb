/**
 * The rollout API through the real service in-process (buildService on a SQLite file, a tokens
 * file): what a request that cannot be carried out is answered (one problem, nothing stored),
 * who may start and steer a rollout, four-eyes approval, pause, resume, abort, the audit trail,
 * and a rollout continuing after the service restarts on the same file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../access/support.ts'
import { tempDir } from '../support/server.ts'
import { createConfigs, type Json, rolloutService, testClock } from './rollout-service.ts'

const TOKENS = {
  alice: { role: 'writer' },
  bob: { role: 'writer' },
  carol: { role: 'writer', prefixes: ['other-'] },
  rita: { role: 'reader' },
}
const as = (name: keyof typeof TOKENS) => ({ authorization: `Bearer ${name}-secret` })

function tokensFile(): string {
  const lines = Object.entries(TOKENS).map(([name, t]) => {
    const prefixes = 'prefixes' in t ? `, prefixes: [${t.prefixes.join(', ')}]` : ''
    return `  - { name: ${name}, sha256: ${sha256(`${name}-secret`)}, role: ${t.role}${prefixes} }`
  })
  const file = join(tempDir('rollout-tokens-'), 'tokens.yaml')
  writeFileSync(file, `tokens:\n${lines.join('\n')}\n`)
  return file
}

const REQUEST = {
  change: { merge: { replicas: 2 } },
  target: { prefix: 'app-' },
  waves: [{ percent: 50 }, { percent: 100 }],
  bake: '30m',
}

describe('the rollout API', () => {
  let env: Awaited<ReturnType<typeof rolloutService>>
  let tokens: string

  beforeEach(async () => {
    tokens = tokensFile()
    env = await rolloutService({ API_TOKENS_FILE: tokens })
    await createConfigs((m, p, b) => env.send(m, p, b, as('alice')), 'app-', 4)
  })

  afterEach(async () => {
    await env.close()
  })

  const start = async (body: unknown = REQUEST, who: keyof typeof TOKENS = 'alice') =>
    env.send('POST', '/rollouts', body, as(who))

  it.each([
    ['a bake that is no duration', { ...REQUEST, bake: 'soon' }, '/bake'],
    ['waves that leave configs out', { ...REQUEST, waves: [{ percent: 50 }] }, '/waves'],
    ['percents that do not grow', { ...REQUEST, waves: [{ percent: 50 }, { percent: 50 }] }, '/waves/1/percent'],
    [
      'a wave naming an untargeted config',
      { ...REQUEST, waves: [{ dcnames: ['nope'] }, { percent: 100 }] },
      '/waves/0/dcnames',
    ],
    ['a target that matches nothing', { ...REQUEST, target: { prefix: 'none-' } }, '/target'],
    [
      'a Prometheus gate without PROMETHEUS_URL',
      { ...REQUEST, gates: [{ prometheus: 'up == 0' }] },
      '/gates/0/prometheus',
    ],
    [
      'a consumers gate whose within is no duration',
      { ...REQUEST, gates: [{ consumers: { applied: 0.9, within: 'later' } }] },
      '/gates/0/consumers/within',
    ],
    [
      'a change that makes a config invalid',
      { ...REQUEST, change: { merge: { limits: { cpu: { value: 'lots' } } } } },
      '/metadata/limits/cpu/value',
    ],
    ['both a merge and metadata', { ...REQUEST, change: { merge: {}, metadata: {} } }, '/change'],
  ])(
    'when the request has %s, then it is answered 422 naming where, and nothing is stored',
    async (_, body, pointer) => {
      const { status, headers, body: problem } = await start(body)
      expect(status).toBe(422)
      expect(headers.get('content-type')).toBe('application/problem+json')
      expect((problem.errors as Json[]).map((e) => e.pointer)).toContain(pointer)
      expect((await env.send('GET', '/rollouts', undefined, as('alice'))).body.items).toEqual([])
    },
  )

  it('when the body breaks the schema, then it is answered 400 and nothing is stored', async () => {
    const { status, body } = await start({ ...REQUEST, waves: [] })
    expect(status).toBe(400)
    expect(body.detail).toBe('the body is not a valid rollout request')
    expect((body.errors as Json[])[0]?.pointer).toBe('/waves')
    expect((await env.send('GET', '/rollouts', undefined, as('alice'))).body.items).toEqual([])
  })

  it('when a reader, or a writer outside the targeted prefixes, starts one, then it is refused 403', async () => {
    expect((await start(REQUEST, 'rita')).status).toBe(403)
    expect((await start({ ...REQUEST, target: { dcnames: ['app-000'] } }, 'carol')).status).toBe(403)
    expect((await env.send('GET', '/rollouts', undefined, as('alice'))).body.items).toEqual([])
  })

  it('when no approval is required, then the first answer already has the first wave applying', async () => {
    const created = await start()
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ status: 'applying', wave: 0 })
    const timeline = created.body.timeline as { event: string; wave?: number }[]
    expect(timeline.map((e) => e.event)).toEqual(['created', 'wave-started'])
    await env.until(created.body.id as string, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
  })

  it('when approval is required, then the creator may not approve, another writer may, and the first wave starts', async () => {
    const created = await start({ ...REQUEST, approval: { required: 1 } })
    const id = created.body.id as string
    expect(created.body.status).toBe('pending-approval')
    const own = await env.send('POST', `/rollouts/${id}/approve`, undefined, as('alice'))
    expect(own.status).toBe(409)
    expect(own.body.detail).toContain('another actor must approve')
    await env.service.rollouts.driver.tick()
    expect((await env.rollout(id)).status).toBe('pending-approval')
    const approved = await env.send('POST', `/rollouts/${id}/approve`, undefined, as('bob'))
    expect(approved.status).toBe(200)
    expect(approved.body.approvedBy).toEqual(['bob'])
    await env.until(id, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
    const lines = env.lines.filter((l) => l.msg === 'audit' && l.rollout === id)
    expect(lines.map((l) => l.action)).toContain('write-rollout')
    expect(lines.filter((l) => l.action === 'patch').map((l) => l.dcname)).toEqual(['app-000', 'app-001'])
  })

  it('when a rollout is paused, then a bake that ends does not move it, and resume starts the bake again', async () => {
    const id = (await start()).body.id as string
    await env.until(id, (r) => r.status === 'baking', 'wave 1 baking')
    expect((await env.send('POST', `/rollouts/${id}/pause`, undefined, as('bob'))).body.status).toBe('paused')
    env.clock.advance(3_600_000)
    await env.service.rollouts.driver.tick()
    expect((await env.rollout(id)).status).toBe('paused')
    const resumed = await env.send('POST', `/rollouts/${id}/resume`, undefined, as('alice'))
    expect(resumed.body).toMatchObject({
      status: 'baking',
      wave: 0,
      bakeUntil: new Date(env.clock.now() + 1_800_000).toISOString(),
    })
    expect((await env.send('POST', `/rollouts/${id}/resume`, undefined, as('alice'))).status).toBe(409)
  })

  it('when a rollout is aborted, then every config it changed is back and it ends aborted', async () => {
    const id = (await start()).body.id as string
    await env.until(id, (r) => r.status === 'baking', 'wave 1 baking')
    expect((await env.send('GET', '/configs/app-000')).body.metadata).toMatchObject({ replicas: 2 })
    expect((await env.send('POST', `/rollouts/${id}/abort`, undefined, as('bob'))).status).toBe(200)
    const done = await env.until(id, (r) => r.status === 'aborted', 'the abort')
    expect(done.reason).toBe('aborted by bob')
    for (const dcname of ['app-000', 'app-001', 'app-002', 'app-003']) {
      expect((await env.send('GET', `/configs/${dcname}`)).body.metadata).toMatchObject({ replicas: 1 })
    }
    expect((await env.send('POST', `/rollouts/${id}/abort`, undefined, as('bob'))).status).toBe(409)
  })

  it('when the service restarts on the same file mid-rollout, then the rollout continues where it was', async () => {
    const id = (await start()).body.id as string
    await env.until(id, (r) => r.status === 'baking' && r.wave === 0, 'wave 1 baking')
    const { dir, clock } = env
    await env.close(true)
    env = await rolloutService({ API_TOKENS_FILE: tokens }, { dir, clock })
    clock.advance(1_800_000)
    await env.until(id, (r) => r.status === 'baking' && r.wave === 1, 'wave 2 baking after the restart')
    clock.advance(1_800_000)
    const done = await env.until(id, (r) => r.status === 'completed', 'completion after the restart')
    expect((done.configs as Json[]).every((c) => c.state === 'applied')).toBe(true)
    const history = (await env.send('GET', '/configs/app-000/history')).body as unknown as Json[]
    expect(history).toHaveLength(2)
  })

  it('when a rollout is listed and read, then it shows its counts, its configs and its timeline', async () => {
    const id = (await start()).body.id as string
    await env.until(id, (r) => r.status === 'baking', 'wave 1 baking')
    const list = await env.send('GET', '/rollouts?status=baking', undefined, as('rita'))
    expect(list.body.items).toEqual([
      expect.objectContaining({ id, counts: { pending: 2, applied: 2, reverted: 0, kept: 0 } }),
    ])
    expect((await env.send('GET', '/rollouts?status=nope', undefined, as('rita'))).status).toBe(400)
    expect((await env.send('GET', '/rollouts/ro-missing', undefined, as('rita'))).status).toBe(404)
    const read = (await env.send('GET', `/rollouts/${id}`, undefined, as('rita'))).body
    expect(read.createdBy).toBe('alice')
    expect((read.timeline as Json[]).map((e) => e.event)).toEqual(['created', 'wave-started', 'wave-applied'])
    const metrics = await (await env.request('/metrics')).text()
    expect(metrics).toContain('config_rollouts{status="baking"} 1')
    expect(metrics).toContain('config_rollouts{status="reverted"} 0')
  })
})

describe('testClock', () => {
  it('when advanced, then it tells the new time', () => {
    const clock = testClock()
    const then = clock.now()
    clock.advance(5)
    expect(clock.now()).toBe(then + 5)
  })
})
