/**
 * 50 clients do read-modify-write on one config with If-Match, retrying on 412.
 * No update may be lost, and the revisions handed out must strictly increase.
 */
import { afterAll, beforeAll, expect, it } from 'bun:test'
import { client, httpTarget, revisionOf, type Target, uniquePrefix } from '../support/http.ts'

let target: Target
let request: ReturnType<typeof client>
const dcname = `${uniquePrefix()}-counter`
const CLIENTS = 50
const INCREMENTS = 3

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
})
afterAll(async () => {
  await target.close()
})

it('when 50 clients increment one counter with If-Match, then no update is lost and revisions strictly increase', async () => {
  const created = await request('POST', '/configs', { body: { dcname, metadata: { counter: 0, writers: [] } } })
  expect(created.status).toBe(201)
  const wins: { client: number; value: number; revision: number; previous: number }[] = []
  let conflicts = 0

  const worker = async (id: number) => {
    for (let done = 0; done < INCREMENTS; ) {
      const current = await request('GET', `/configs/${dcname}`)
      expect(current.status).toBe(200)
      const { counter, writers } = current.json.metadata
      const put = await request('PUT', `/configs/${dcname}`, {
        body: { metadata: { counter: counter + 1, writers: [...writers, id] } },
        headers: { 'if-match': current.headers.get('etag') as string },
      })
      if (put.status === 412) {
        conflicts++
        continue
      }
      expect(put.status).toBe(200)
      wins.push({ client: id, value: counter + 1, revision: revisionOf(put), previous: revisionOf(current) })
      done++
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, id) => worker(id)))

  const final = await request('GET', `/configs/${dcname}`)
  const total = CLIENTS * INCREMENTS
  expect(final.json.metadata.counter).toBe(total)
  // Every successful write saw the previous one: the values 1..total each won exactly once.
  expect(wins.map((w) => w.value).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
  expect(final.json.metadata.writers).toHaveLength(total)
  // Ordered by value, revisions strictly increase and each write built on the one before it.
  const byValue = [...wins].sort((a, b) => a.value - b.value)
  for (let i = 1; i < byValue.length; i++) {
    expect(byValue[i]?.revision).toBeGreaterThan(byValue[i - 1]?.revision as number)
    expect(byValue[i]?.previous).toBe(byValue[i - 1]?.revision as number)
  }
  expect(revisionOf(final)).toBe(byValue.at(-1)?.revision as number)
  expect(conflicts).toBeGreaterThan(0)
}, 120_000)
