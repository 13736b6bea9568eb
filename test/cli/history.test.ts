/**
 * history, get at a revision and rollback: configctl (dist/configctl) and the typed client
 * against a real service process. They use the history endpoints of the README's API section
 * (GET /configs/{dcname}/history, GET /configs/{dcname}?revision=N,
 * POST /configs/{dcname}/rollback), which land with issue 11: until then this file's name keeps
 * it out of `bun test`; rename it to history.test.ts when they do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createClient, ProblemError } from '../../src/client/index.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { api, buildConfigctl, configctl } from './support.ts'

let server: RunningServer
let url: string
const revisions: number[] = []

beforeAll(async () => {
  ;[server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  url = server.url
  const client = createClient({ url })
  revisions.push((await client.create({ dcname: 'hist-a', metadata: { step: 1 } })).revision)
  revisions.push((await client.patch('hist-a', { metadata: { step: 2 } })).revision)
  revisions.push((await client.patch('hist-a', { metadata: { step: 3 } })).revision)
}, 60_000)
afterAll(async () => {
  await server.stop()
})

describe('configctl history, get --revision and rollback', () => {
  it('when history is asked, then -o json prints exactly the API answer, newest first, and the table one row per write', async () => {
    const json = await configctl(url, ['history', 'hist-a', '-o', 'json'])
    expect(json.code).toBe(0)
    expect(json.stdout).toBe(`${(await api(url, '/configs/hist-a/history')).text}\n`)
    const entries = JSON.parse(json.stdout)
    expect(entries.map((entry: { revision: number }) => entry.revision)).toEqual([...revisions].reverse())
    expect(entries[0]).toMatchObject({ type: 'MODIFIED', actor: 'anonymous', config: { metadata: { step: 3 } } })
    expect(typeof entries[0].requestId).toBe('string')
    expect(Number.isNaN(Date.parse(entries[0].time))).toBe(false)

    const table = await configctl(url, ['history', 'hist-a'])
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^REVISION +TYPE +ROLLBACK-OF +TIME +ACTOR +METADATA$/)
    expect(lines).toHaveLength(4)
    expect(lines[3]).toMatch(new RegExp(`^${revisions[0]} +ADDED +- +\\S+ +anonymous +\\{"step":1\\}$`))
  })

  it('when a config is read at a revision, then it is as it stood then', async () => {
    const run = await configctl(url, ['get', 'hist-a', '--revision', String(revisions[0]), '-o', 'json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ dcname: 'hist-a', revision: revisions[0], metadata: { step: 1 } })
  })

  it('when rolled back to a revision, then that state is written again as a new revision', async () => {
    const run = await configctl(url, ['rollback', 'hist-a', '--to', String(revisions[0])])
    expect(run.code).toBe(0)
    const now = (await api(url, '/configs/hist-a')).headers.get('etag')?.replaceAll('"', '')
    expect(run.stdout).toBe(`config/hist-a rolled back to revision ${revisions[0]} (now revision ${now})\n`)
    expect(JSON.parse((await api(url, '/configs/hist-a')).text)).toEqual({ dcname: 'hist-a', metadata: { step: 1 } })
  })

  it('when a deleted config is rolled back, then it is restored', async () => {
    await api(url, '/configs/hist-a', { method: 'DELETE' })
    const run = await configctl(url, ['rollback', 'hist-a', '--to', String(revisions[1]), '-o', 'json'])
    expect(run.code).toBe(0)
    const now = await api(url, '/configs/hist-a')
    expect(now.status).toBe(200)
    const revision = Number(now.headers.get('etag')?.replaceAll('"', ''))
    expect(JSON.parse(run.stdout)).toEqual({ dcname: 'hist-a', revision, metadata: { step: 2 } })
  })

  it('when the config never existed, then history and rollback exit 1 with the detail', async () => {
    const history = await configctl(url, ['history', 'never-there'])
    expect(history.code).toBe(1)
    expect(history.stderr).toStartWith('error: ')
    const rollback = await configctl(url, ['rollback', 'never-there', '--to', '1'])
    expect(rollback.code).toBe(1)
    expect(rollback.stderr).toStartWith('error: ')
  })

  it('when rolled back to a revision after the current one, then it exits 1 naming the current revision and writes nothing', async () => {
    const current = Number((await api(url, '/configs')).headers.get('x-revision'))
    const run = await configctl(url, ['rollback', 'hist-a', '--to', '5000000'])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`revision 5000000 is after the current revision ${current}`)
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(Number((await api(url, '/configs')).headers.get('x-revision'))).toBe(current)
  })
})

describe('the typed client', () => {
  it('when history is paged, then each page names the next and historyAll reads them all', async () => {
    const client = createClient({ url })
    const first = await client.history('hist-a', { limit: 2 })
    expect(first.entries).toHaveLength(2)
    expect(first.next).toBeString()
    const all = await client.historyAll('hist-a')
    expect(all.slice(0, 2)).toEqual(first.entries)
    expect(all.length).toBeGreaterThan(2)
  })

  it('when a rollback names a revision that has moved on (If-Match), then it throws the 412 problem', async () => {
    const client = createClient({ url })
    const { revision } = await client.get('hist-a')
    await client.patch('hist-a', { metadata: { step: 9 } })
    const error = await client.rollback('hist-a', revisions[0] as number, { ifMatch: revision }).catch((e) => e)
    expect(error).toBeInstanceOf(ProblemError)
    expect(error.status).toBe(412)
    const at = await client.get('hist-a', { revision: revisions[0] as number })
    expect(at.config).toEqual({ dcname: 'hist-a', metadata: { step: 1 } })
  })
})
