/**
 * History, reads at a revision and rollback over plain HTTP against a real server process (Bun
 * by default, Deno with TEST_RUNTIME=deno, or any server at TEST_BASE_URL): order and paging,
 * the request id and actor of each entry, 404/410/400 of a read at a revision, rollback (plain,
 * undelete, stale If-Match, compacted, never there) and a watcher seeing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, revisionOf, type Target, uniquePrefix } from '../support/http.ts'
import { watch } from '../support/sse.ts'
import { PROCESS_WAIT_MS } from '../support/wait.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
const name = (suffix: string) => `${p}-${suffix}`

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
})
afterAll(async () => {
  await target.close()
})

/** Writes and returns the new revision (its ETag). */
async function write(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const reply = await request(method, path, { body, headers })
  expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300)
  return { revision: revisionOf(reply), requestId: reply.headers.get('x-request-id') }
}

/** A config with three writes: created, patched, patched. */
async function threeWrites(dcname: string): Promise<[number, number, number]> {
  const created = await write('POST', '/configs', { dcname, metadata: { step: 1 } })
  const second = await write('PATCH', `/configs/${dcname}`, { metadata: { step: 2 } })
  const third = await write('PATCH', `/configs/${dcname}`, { metadata: { step: 3 } })
  return [created.revision, second.revision, third.revision]
}

describe('History', () => {
  it('when a config was written three times, then its history has one entry per write, newest first', async () => {
    const dcname = name('order')
    const revisions = await threeWrites(dcname)
    const reply = await request('GET', `/configs/${dcname}/history`)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toStartWith('application/json')
    expect(reply.headers.get('link')).toBeNull()
    expect(reply.json.map((e: { revision: number; type: string }) => [e.revision, e.type])).toEqual([
      [revisions[2], 'MODIFIED'],
      [revisions[1], 'MODIFIED'],
      [revisions[0], 'ADDED'],
    ])
    expect(reply.json[2].config).toEqual({ dcname, metadata: { step: 1 } })
    for (const entry of reply.json) expect(Number.isNaN(Date.parse(entry.time))).toBe(false)
  })

  it("when written with and without an X-Request-Id, then each entry keeps the id the write's answer carried", async () => {
    const dcname = name('request-id')
    const sent = await write('POST', '/configs', { dcname, metadata: {} }, { 'x-request-id': 'deploy-42' })
    const made = await write('PATCH', `/configs/${dcname}`, { metadata: { a: 1 } })
    expect(sent.requestId).toBe('deploy-42')
    expect(made.requestId).toMatch(/^[0-9a-f-]{36}$/)
    const entries = (await request('GET', `/configs/${dcname}/history`)).json
    expect(entries.map((e: { requestId: string }) => e.requestId)).toEqual([made.requestId, 'deploy-42'])
    // Every write here carries the API_TOKEN the target runs with.
    expect(entries.map((e: { actor: string }) => e.actor)).toEqual(['api-token', 'api-token'])
  })

  it('when paged with limit, then each page links the next with a cursor until the oldest entry', async () => {
    const dcname = name('paging')
    const revisions = await threeWrites(dcname)
    const seen: number[] = []
    let path: string | undefined = `/configs/${dcname}/history?limit=2`
    let pages = 0
    while (path !== undefined) {
      const reply = await request('GET', path)
      expect(reply.status).toBe(200)
      seen.push(...reply.json.map((e: { revision: number }) => e.revision))
      pages++
      const link = reply.headers.get('link')
      path = link === null ? undefined : (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] as string)
      if (path !== undefined) expect(path).toContain('limit=2')
    }
    expect(pages).toBe(2)
    expect(seen).toEqual([...revisions].reverse())
  })

  it('when a config was deleted, then its history stays, ending in a DELETED entry holding the last state', async () => {
    const dcname = name('deleted')
    await threeWrites(dcname)
    const deleted = await request('DELETE', `/configs/${dcname}`)
    expect(deleted.status).toBe(204)
    const reply = await request('GET', `/configs/${dcname}/history`)
    expect(reply.status).toBe(200)
    expect(reply.json).toHaveLength(4)
    expect(reply.json[0]).toMatchObject({ type: 'DELETED', config: { dcname, metadata: { step: 3 } } })
  })

  it('when the name never existed, then history answers 404', async () => {
    expectProblem(await request('GET', `/configs/${name('never')}/history`), 404)
  })

  it('when the query is not limit and cursor, or the cursor is forged or a list cursor, then 400', async () => {
    const dcname = name('order')
    for (const query of ['limit=0', 'limit=10001', 'colour=red', 'cursor=%2F%2F', 'cursor=aGlzdG9yeTow']) {
      expectProblem(await request('GET', `/configs/${dcname}/history?${query}`), 400)
    }
    const list = await request('GET', `/configs?limit=1`)
    const listCursor = /cursor=([^&>]+)/.exec(list.headers.get('link') ?? '')?.[1]
    expect(listCursor).toBeString()
    expectProblem(await request('GET', `/configs/${dcname}/history?cursor=${listCursor}`), 400)
  })
})

describe('Get at a revision', () => {
  it('when read at each revision, then it is as it stood then, with the ETag of the write that made that state', async () => {
    const dcname = name('at')
    const [first, second, third] = await threeWrites(dcname)
    for (const [at, step, made] of [
      [first, 1, first],
      [second, 2, second],
      [third, 3, third],
    ] as const) {
      const reply = await request('GET', `/configs/${dcname}?revision=${at}`)
      expect(reply.status).toBe(200)
      expect(reply.json).toEqual({ dcname, metadata: { step } })
      expect(revisionOf(reply)).toBe(made)
    }
    // A revision between writes (another config's write) shows the state of the write before it.
    const other = await write('POST', '/configs', { dcname: name('at-other'), metadata: {} })
    await write('PATCH', `/configs/${dcname}`, { metadata: { step: 4 } })
    const between = await request('GET', `/configs/${dcname}?revision=${other.revision}`)
    expect(between.json).toEqual({ dcname, metadata: { step: 3 } })
    expect(revisionOf(between)).toBe(third)
  })

  it('when the ETag of the state at a revision is sent as If-None-Match, then 304', async () => {
    const dcname = name('at-304')
    const [first] = await threeWrites(dcname)
    const reply = await request('GET', `/configs/${dcname}?revision=${first}`, {
      headers: { 'if-none-match': `"${first}"` },
    })
    expect(reply.status).toBe(304)
    expect(reply.text).toBe('')
  })

  it('when the config did not exist at the revision (not yet created, or deleted), then 404', async () => {
    const dcname = name('at-404')
    const before = await write('POST', '/configs', { dcname: name('at-404-before'), metadata: {} })
    await threeWrites(dcname)
    expectProblem(await request('GET', `/configs/${dcname}?revision=${before.revision}`), 404)
    await request('DELETE', `/configs/${dcname}`)
    const after = await write('POST', '/configs', { dcname: name('at-404-after'), metadata: {} })
    expectProblem(await request('GET', `/configs/${dcname}?revision=${after.revision}`), 404)
    expectProblem(await request('GET', `/configs/${name('never')}?revision=1`), 404)
  })

  it('when the revision is after the current one, then 400 naming the current revision', async () => {
    const dcname = name('at-future')
    const [, , third] = await threeWrites(dcname)
    const reply = await request('GET', `/configs/${dcname}?revision=5000000`)
    expectProblem(reply, 400)
    expect(reply.json.detail).toBe(`revision 5000000 is after the current revision ${third}`)
    expectProblem(await request('GET', `/configs/${dcname}?revision=${third + 1}`), 400)
  })

  it('when the revision is not a positive whole number, then 400', async () => {
    const dcname = name('order')
    for (const revision of ['0', '-1', '1.5', 'abc', '', '1e3', '+1', '01', '99999999999999999999']) {
      const reply = await request('GET', `/configs/${dcname}?revision=${encodeURIComponent(revision)}`)
      expect({ revision, status: reply.status }).toEqual({ revision, status: 400 })
      expectProblem(reply, 400)
    }
    expectProblem(await request('GET', `/configs/${dcname}?revision=1&revision=2`), 400)
  })
})

describe('Rollback', () => {
  it('when rolled back, then the old state is written again as a new revision and kept in history', async () => {
    const dcname = name('rollback')
    const [first, , third] = await threeWrites(dcname)
    const reply = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: first } })
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ dcname, metadata: { step: 1 } })
    expect(revisionOf(reply)).toBeGreaterThan(third as number)
    expect(reply.headers.get('location')).toBeNull()
    const now = await request('GET', `/configs/${dcname}`)
    expect(now.json).toEqual({ dcname, metadata: { step: 1 } })
    expect(revisionOf(now)).toBe(revisionOf(reply))
    const [entry] = (await request('GET', `/configs/${dcname}/history?limit=1`)).json
    expect(entry).toMatchObject({ revision: revisionOf(reply), type: 'MODIFIED', actor: 'api-token' })
  })

  it('when rolled back, then its history entry names the revision it restored and the others none', async () => {
    const dcname = name('rollback-of')
    const [first, , third] = await threeWrites(dcname)
    const reply = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: first } })
    const entries = (await request('GET', `/configs/${dcname}/history?limit=2`)).json
    expect(entries.map((e: { revision: number; rollbackOf?: number }) => [e.revision, e.rollbackOf])).toEqual([
      [revisionOf(reply), first],
      [third, undefined],
    ])
  })

  it('when a config was seeded, then its entry has no requestId', async () => {
    const seeded = await httpTarget({ SEED: 'true' })
    try {
      const reply = await client(seeded)('GET', '/configs/datacenter-1/history')
      expect(reply.status).toBe(200)
      expect(reply.json.map((e: { actor: string; requestId?: string }) => [e.actor, 'requestId' in e])).toEqual([
        ['seed', false],
      ])
    } finally {
      await seeded.close()
    }
  })

  it('when a deleted config is rolled back, then it exists again: 201 with Location', async () => {
    const dcname = name('undelete')
    const [, second] = await threeWrites(dcname)
    await request('DELETE', `/configs/${dcname}`)
    const reply = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: second } })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('location')).toBe(`/configs/${dcname}`)
    expect(reply.json).toEqual({ dcname, metadata: { step: 2 } })
    const [entry] = (await request('GET', `/configs/${dcname}/history?limit=1`)).json
    expect(entry).toMatchObject({ revision: revisionOf(reply), type: 'ADDED' })
  })

  it('when If-Match names the current revision, then it rolls back; a stale one is 412 and changes nothing', async () => {
    const dcname = name('if-match')
    const [first, second, third] = await threeWrites(dcname)
    const stale = await request('POST', `/configs/${dcname}/rollback`, {
      body: { revision: first },
      headers: { 'if-match': `"${second}"` },
    })
    expectProblem(stale, 412)
    const unchanged = await request('GET', `/configs/${dcname}`)
    expect(revisionOf(unchanged)).toBe(third)
    expect(unchanged.json).toEqual({ dcname, metadata: { step: 3 } })
    const fresh = await request('POST', `/configs/${dcname}/rollback`, {
      body: { revision: first },
      headers: { 'if-match': `"${third}"` },
    })
    expect(fresh.status).toBe(200)
  })

  it('when the revision is after the current one, then 400 naming the current revision, and nothing is written', async () => {
    const dcname = name('rb-future')
    const [, , third] = await threeWrites(dcname)
    const reply = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: 5_000_000 } })
    expectProblem(reply, 400)
    expect(reply.json.detail).toBe(`revision 5000000 is after the current revision ${third}`)
    const history = (await request('GET', `/configs/${dcname}/history`)).json
    expect(history.map((e: { revision: number }) => e.revision)[0]).toBe(third)
    expect(revisionOf(await request('GET', `/configs/${dcname}`))).toBe(third)
  })

  it('when there was no state at the revision, or the name never existed, then 404 and nothing is written', async () => {
    const before = await write('POST', '/configs', { dcname: name('rb-404-before'), metadata: {} })
    const dcname = name('rb-404')
    const [, , third] = await threeWrites(dcname)
    expectProblem(await request('POST', `/configs/${dcname}/rollback`, { body: { revision: before.revision } }), 404)
    expect(revisionOf(await request('GET', `/configs/${dcname}`))).toBe(third)
    expectProblem(await request('POST', `/configs/${name('never')}/rollback`, { body: { revision: 1 } }), 404)
    expectProblem(await request('GET', `/configs/${name('never')}`), 404)
  })

  it('when a config is rolled back, then a watcher sees MODIFIED; when undeleted, ADDED', async () => {
    const dcname = name('watched')
    const [first] = await threeWrites(dcname)
    const stream = await watch(target.base, `dcname=${dcname}`)
    try {
      const modified = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: first } })
      await request('DELETE', `/configs/${dcname}`)
      const added = await request('POST', `/configs/${dcname}/rollback`, { body: { revision: first } })
      expect(added.status).toBe(201)
      const events = await stream.events(3)
      expect(events.map((e) => [e.type, e.revision])).toEqual([
        ['MODIFIED', revisionOf(modified)],
        ['DELETED', expect.any(Number)],
        ['ADDED', revisionOf(added)],
      ])
      expect(events[2]?.config).toEqual({ dcname, metadata: { step: 1 } })
      const restored = events.map((e) => (e as { rollbackOf?: number }).rollbackOf)
      expect(restored).toEqual([first, undefined, first])
    } finally {
      stream.close()
    }
  })
})

describe('compacted history', () => {
  // Retention needs a server started with it; a shared target at TEST_BASE_URL keeps its own.
  let compacting: Target | undefined
  let send: ReturnType<typeof client>

  beforeAll(async () => {
    if (process.env.TEST_BASE_URL) return
    compacting = await httpTarget({ HISTORY_KEEP: '1', HISTORY_RETENTION_DAYS: '0', WATCH_HISTORY_SIZE: '1' })
    send = client(compacting)
  })
  afterAll(async () => {
    await compacting?.close()
  })

  it('when a revision was dropped by retention, then reading and rolling back to it answer 410 naming the oldest kept', async () => {
    if (!compacting) return
    const dcname = name('compacted')
    const created = await send('POST', '/configs', { body: { dcname, metadata: { step: 1 } } })
    await send('PATCH', `/configs/${dcname}`, { body: { metadata: { step: 2 } } })
    const last = await send('PATCH', `/configs/${dcname}`, { body: { metadata: { step: 3 } } })
    // Retention runs in the background, within seconds of the write (a busy machine: more).
    const deadline = Date.now() + PROCESS_WAIT_MS
    let history = await send('GET', `/configs/${dcname}/history`)
    while (history.json.length > 1 && Date.now() < deadline) {
      await Bun.sleep(100)
      history = await send('GET', `/configs/${dcname}/history`)
    }
    expect(history.json.map((e: { revision: number }) => e.revision)).toEqual([revisionOf(last)])

    const read = await send('GET', `/configs/${dcname}?revision=${revisionOf(created)}`)
    expectProblem(read, 410)
    expect(read.json.detail).toContain(`the oldest kept is ${revisionOf(last)}`)
    const rollback = await send('POST', `/configs/${dcname}/rollback`, { body: { revision: revisionOf(created) } })
    expectProblem(rollback, 410)
    expect(rollback.json.detail).toContain(`the oldest kept is ${revisionOf(last)}`)
    const now = await send('GET', `/configs/${dcname}`)
    expect(revisionOf(now)).toBe(revisionOf(last))
  })
})
