/** The watch API suites on SQLite, and once more on a Deno-started server. */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, revisionOf, type Target } from '../support/http.ts'
import { watch } from '../support/sse.ts'
import { describeWatchReplay } from './watch-replay-suite.ts'
import { closeStreams, describeWatchApi, serve, track } from './watch-suite.ts'

describeWatchApi('sqlite', async () => undefined)
describeWatchReplay('sqlite', async () => undefined)

describe('watch on Deno', () => {
  let target: Target

  beforeAll(async () => {
    target = await serve({ runtime: 'deno' })
  }, 60_000)
  afterAll(async () => {
    closeStreams()
    await target.close()
  })

  it('when the server runs on Deno, then a watcher receives changes as on Bun', async () => {
    const request = client(target)
    const stream = await track(watch(target.base))
    const reply = await request('POST', '/configs', { body: { dcname: 'on-deno', metadata: { runtime: 'deno' } } })
    expect(reply.status).toBe(201)
    const [event] = await stream.events(1)
    expect(event).toEqual({
      type: 'ADDED',
      revision: revisionOf(reply),
      config: { dcname: 'on-deno', metadata: { runtime: 'deno' } },
    })
    closeStreams()
  })
})
