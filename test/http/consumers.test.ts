/**
 * Consumer reports over plain HTTP against a real server process (Bun by default, Deno with
 * TEST_RUNTIME=deno): reports and heartbeats, the list with expiry, the config_consumers gauge,
 * the bound per config, who may report, and every bad report refused with one problem while
 * nothing stored changes. The server runs with a short TTL that the tests wait out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, type Target, uniquePrefix } from '../support/http.ts'
import { waitFor } from '../support/wait.ts'

const TTL_MS = 1500
let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
let n = 0

beforeAll(async () => {
  target = await httpTarget({
    SEED: 'false',
    CONSUMERS_TTL_MS: String(TTL_MS),
    CONSUMERS_FLUSH_MS: '5',
    CONSUMERS_MAX_PER_CONFIG: '3',
  })
  request = client(target)
}, 60_000)
afterAll(async () => {
  await target.close()
})

/** A new config; its revision. */
async function freshConfig(): Promise<{ dcname: string; revision: number }> {
  const dcname = `${p}-${++n}`
  const reply = await request('PUT', `/configs/${dcname}`, { body: { dcname, metadata: { n } } })
  expect(reply.status, reply.text).toBe(201)
  return { dcname, revision: Number(reply.headers.get('etag')?.replaceAll('"', '')) }
}

const report = (dcname: string, consumer: string, body: unknown) =>
  request('PUT', `/configs/${dcname}/consumers/${consumer}`, { body })

async function gauge(): Promise<Record<string, number>> {
  const text = (await request('GET', '/metrics')).text
  const counts: Record<string, number> = {}
  for (const match of text.matchAll(/^config_consumers\{state="(\w+)"\} (\d+)$/gm)) {
    counts[match[1] as string] = Number(match[2])
  }
  return counts
}

describe('Consumer reports', () => {
  it('when consumers report, then /metrics counts them by state', async () => {
    const { dcname, revision } = await freshConfig()
    expect(await gauge()).toEqual({ applied: 0, rejected: 0, expired: 0 })
    expect((await report(dcname, 'web-1', { revision, state: 'applied' })).status).toBe(200)
    expect((await report(dcname, 'web-2', { revision, state: 'rejected', message: 'no' })).status).toBe(200)
    expect(await gauge()).toEqual({ applied: 1, rejected: 1, expired: 0 })
    // Their writes are timed as store operations, as config writes are.
    const text = (await request('GET', '/metrics')).text
    expect(text).toMatch(
      /^store_operation_duration_seconds_count\{operation="consumers\.write",backend="sqlite"\} [1-9]/m,
    )
  })

  it('when a consumer reports, then the config lists its report with when it expires', async () => {
    const { dcname, revision } = await freshConfig()
    const reply = await report(dcname, 'web-1.pod', { revision, state: 'rejected', message: 'bad "listen"' })
    expect(reply.status, reply.text).toBe(200)
    const listed = await request('GET', `/configs/${dcname}/consumers`)
    expect(listed.status).toBe(200)
    expect(listed.json).toEqual([reply.json])
    const [item] = listed.json
    expect(item).toMatchObject({ consumer: 'web-1.pod', revision, state: 'rejected', status: 'rejected' })
    expect(item.message).toBe('bad "listen"')
    expect(Date.parse(item.expiresAt) - Date.parse(item.reportedAt)).toBe(TTL_MS)
  })

  it('when a consumer stops reporting, then it is listed as expired after the TTL, then no more', async () => {
    const { dcname, revision } = await freshConfig()
    await report(dcname, 'gone', { revision, state: 'applied' })
    const list = async () => (await request('GET', `/configs/${dcname}/consumers`)).json
    await waitFor(async () => (await list())[0]?.status === 'expired', 20_000, 'the report to expire')
    expect((await gauge()).expired).toBeGreaterThanOrEqual(1)
    await waitFor(async () => (await list()).length === 0, 20_000, 'the expired report to be dropped')
  })

  it('when a consumer sends heartbeats, then its report stays live past the first TTL', async () => {
    const { dcname, revision } = await freshConfig()
    const first = (await report(dcname, 'beating', { revision, state: 'applied' })).json
    // Heartbeats until a report is made after the first one's expiry: it must still be live then.
    const beat = await waitFor(async () => {
      const reply = (await report(dcname, 'beating', { revision, state: 'applied' })).json
      return Date.parse(reply.reportedAt) > Date.parse(first.expiresAt) ? reply : undefined
    }, 20_000)
    const [listed] = (await request('GET', `/configs/${dcname}/consumers`)).json
    expect(listed.status).toBe('applied')
    expect(Date.parse(listed.reportedAt)).toBeGreaterThanOrEqual(Date.parse(beat.reportedAt))
  })

  it('when a config holds CONSUMERS_MAX_PER_CONFIG live consumers, then a new one is refused with 409', async () => {
    const { dcname, revision } = await freshConfig()
    for (const name of ['a', 'b', 'c'])
      expect((await report(dcname, name, { revision, state: 'applied' })).status).toBe(200)
    const refused = await report(dcname, 'd', { revision, state: 'applied' })
    expectProblem(refused, 409)
    expect(refused.json.type).toContain('too-many-consumers')
    expect((await report(dcname, 'a', { revision, state: 'applied' })).status).toBe(200)
    const names = (await request('GET', `/configs/${dcname}/consumers`)).json.map(
      (c: { consumer: string }) => c.consumer,
    )
    expect(names).toEqual(['a', 'b', 'c'])
  })

  it('when a caller without a token reports to a protected service, then it is refused with 401', async () => {
    const { dcname, revision } = await freshConfig()
    expectProblem(
      await request('PUT', `/configs/${dcname}/consumers/x`, { body: { revision, state: 'applied' }, auth: false }),
      401,
    )
    expect((await request('GET', `/configs/${dcname}/consumers`)).json).toEqual([])
  })

  it('when reports are made, then no audit line is written for them', async () => {
    const server = target.server
    if (!server) return
    const { dcname, revision } = await freshConfig()
    await report(dcname, 'quiet', { revision, state: 'applied' })
    // The sentinel: a config write after the report is audited, and nothing before it was for the report.
    await request('PATCH', `/configs/${dcname}`, {
      body: { metadata: { after: true } },
      headers: { 'content-type': 'application/merge-patch+json' },
    })
    const audits = () =>
      server.lines.filter(
        (l) => (l as { msg?: string; dcname?: string }).msg === 'audit' && (l as { dcname?: string }).dcname === dcname,
      )
    await waitFor(() => audits().some((l) => (l as { action?: string }).action === 'patch'))
    expect(audits().map((l) => (l as { action?: string }).action)).toEqual(['replace', 'patch'])
  })
})

describe('Bad reports', () => {
  const cases: [string, (d: string, r: number) => Promise<Awaited<ReturnType<typeof report>>>, number][] = [
    ['an unknown config', (_d, r) => report(`${p}-missing`, 'x', { revision: r, state: 'applied' }), 404],
    ['a consumer name with a space', (d, r) => report(d, 'bad%20name', { revision: r, state: 'applied' }), 400],
    ['a consumer name too long', (d, r) => report(d, 'x'.repeat(129), { revision: r, state: 'applied' }), 400],
    ['an unknown state', (d, r) => report(d, 'x', { revision: r, state: 'done' }), 400],
    ['a revision of 0', (d) => report(d, 'x', { revision: 0, state: 'applied' }), 400],
    ['a revision the config never reached', (d, r) => report(d, 'x', { revision: r + 1000, state: 'applied' }), 422],
    [
      'a message too long',
      (d, r) => report(d, 'x', { revision: r, state: 'rejected', message: 'm'.repeat(1025) }),
      400,
    ],
    ['an unknown field', (d, r) => report(d, 'x', { revision: r, state: 'applied', extra: 1 }), 400],
    ['a body too large', (d, r) => report(d, 'x', { revision: r, state: 'applied', message: 'm'.repeat(5000) }), 413],
    [
      'a body that is not JSON',
      (d) =>
        request('PUT', `/configs/${d}/consumers/x`, { raw: 'revision=1', headers: { 'content-type': 'text/plain' } }),
      415,
    ],
  ]
  for (const [what, send, status] of cases) {
    it(`when a report has ${what}, then it is refused with ${status} and nothing is stored`, async () => {
      const { dcname, revision } = await freshConfig()
      expectProblem(await send(dcname, revision), status)
      expect((await request('GET', `/configs/${dcname}/consumers`)).json).toEqual([])
    })
  }
})
