/**
 * `prefix=` on list, search and watch over real HTTP, written once and run on each store
 * (prefix.test.ts on SQLite, prefix-postgres.test.ts on PostgreSQL): a real server process (Bun,
 * or Deno with TEST_RUNTIME=deno).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, type Target } from '../support/http.ts'
import { watch } from '../support/sse.ts'
import { serve } from './watch-suite.ts'

export function describePrefixApi(backend: string, newDatabase: () => Promise<string | undefined>) {
  describe(`prefix (${backend})`, () => {
    let target: Target
    let request: ReturnType<typeof client>
    const names = (reply: { json: { dcname: string }[] }) => reply.json.map((config) => config.dcname)

    beforeAll(async () => {
      target = await serve({ databaseUrl: await newDatabase() })
      request = client(target)
      // `pay` and `payroll-1` start with `pay` but not with `pay-`; `pay_1` sorts between them.
      for (const [dcname, tier] of [
        ['pay-a', 'gold'],
        ['pay-b', 'silver'],
        ['pay-c', 'gold'],
        ['pay', 'gold'],
        ['pay_1', 'gold'],
        ['payroll-1', 'gold'],
        ['ship-a', 'gold'],
      ]) {
        const reply = await request('POST', '/configs', { body: { dcname, metadata: { tier } } })
        expect(reply.status).toBe(201)
      }
    }, 60_000)
    afterAll(async () => {
      await target?.close()
    })

    it('when a list asks for a prefix, then only the configs whose dcname starts with it come back', async () => {
      expect(names(await request('GET', '/configs?prefix=pay-'))).toEqual(['pay-a', 'pay-b', 'pay-c'])
      expect(names(await request('GET', '/configs?prefix=pay'))).toEqual([
        'pay',
        'pay-a',
        'pay-b',
        'pay-c',
        'pay_1',
        'payroll-1',
      ])
    })

    it('when a search combines a prefix with a filter, then both must hold', async () => {
      const reply = await request('GET', '/search?prefix=pay-&metadata.tier=gold')
      expect(reply.status).toBe(200)
      expect(names(reply)).toEqual(['pay-a', 'pay-c'])
    })

    it('when a prefixed list is paged, then the Link keeps the prefix and every match comes once', async () => {
      const seen: string[] = []
      let next: string | undefined = '/configs?prefix=pay-&limit=1'
      while (next !== undefined) {
        const reply = await request('GET', next)
        expect(reply.status).toBe(200)
        seen.push(...names(reply))
        const link = reply.headers.get('link')
        next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined
        expect(seen.length).toBeLessThan(10)
      }
      expect(seen).toEqual(['pay-a', 'pay-b', 'pay-c'])
    })

    it('when no dcname starts with the prefix, then the list is empty', async () => {
      const reply = await request('GET', '/configs?prefix=none-')
      expect(reply.status).toBe(200)
      expect(reply.json).toEqual([])
    })

    it('when the prefix is not the start of a dcname, then it answers 400 naming the parameter', async () => {
      for (const bad of ['', '-pay', 'pay%2F', 'p%20a', 'x'.repeat(254)]) {
        for (const path of ['/configs', '/search']) {
          const reply = await request('GET', `${path}?prefix=${bad}`)
          expectProblem(reply, 400)
          expect(reply.json.detail).toContain('"prefix" must be')
        }
      }
    })

    it('when a watch asks for a prefix, then it replays and streams only the configs starting with it', async () => {
      const stream = await watch(target.base, 'prefix=pay-&since=0')
      try {
        const replayed = await stream.events(3)
        expect(replayed.map((event) => event.config.dcname)).toEqual(['pay-a', 'pay-b', 'pay-c'])
        await request('PUT', '/configs/ship-a', { body: { metadata: { tier: 'bronze' } } })
        await request('PUT', '/configs/pay-b', { body: { metadata: { tier: 'bronze' } } })
        const [live] = await stream.events(1)
        expect(live?.type).toBe('MODIFIED')
        expect(live?.config.dcname).toBe('pay-b')
      } finally {
        stream.close()
      }
    })

    it('when a watch gives a bad prefix, then it answers 400 naming the parameter', async () => {
      const reply = await request('GET', '/configs?watch=true&prefix=-x')
      expectProblem(reply, 400)
      expect(reply.json.detail).toContain('"prefix" must be')
    })
  })
}
