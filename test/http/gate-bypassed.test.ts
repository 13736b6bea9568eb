/**
 * Defence in depth: the config routes built with an access gate that decides nothing (every
 * route declared open, as a gate left out by mistake would) or the wrong thing (every route
 * declared a read, so a reader passes it with a write). The handlers reach the store only
 * through AuthorizedConfigs, so every write is still refused and nothing stored changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Elysia } from 'elysia'
import type { Principal } from '../../src/configs/access.ts'
import { AuthorizedConfigs } from '../../src/configs/authorized-configs.ts'
import { frontDoor } from '../../src/front-door.ts'
import { accessGate } from '../../src/http/auth.ts'
import { CONFIG_CONTRACTS } from '../../src/http/configs/contracts.ts'
import { configRoutes } from '../../src/http/configs/routes.ts'
import { errorHandling } from '../../src/http/errors.ts'
import { RequestContexts } from '../../src/http/request-context.ts'
import { OPEN, type RouteAccess, routeAccessTable } from '../../src/http/route-access.ts'
import { WatchHub } from '../../src/http/watch/watch-hub.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'

const READER: Principal = { actor: 'reader', role: 'reader' }
const EXISTING = 'datacenter-1'

let store: SqliteConfigStore

beforeAll(async () => {
  store = new SqliteConfigStore({ path: ':memory:', open: openBunSqlite })
  await store.create({ dcname: EXISTING, metadata: { v: 1 } }, { actor: 'seed', requestId: '' })
})
afterAll(() => store.close())

/** The config routes behind a gate that reads `declare(route)` for every route's access. */
function routesBehind(declare: (access: RouteAccess) => RouteAccess) {
  const contexts = new RequestContexts(() => 'request-id')
  const declared = routeAccessTable(CONFIG_CONTRACTS.map((route) => ({ ...route, access: declare(route.access) })))
  const gate = accessGate({
    rules: { protected: true, anonymousRead: true },
    authenticate: async () => READER,
    routes: declared,
    contexts,
  })
  const api = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(errorHandling(() => {}))
    .use(gate)
    .onParse({ as: 'global' }, () => null)
    .use(
      configRoutes({ configs: new AuthorizedConfigs(store), watch: new WatchHub(store), gate, maxBodyBytes: 65_536 }),
    )
  const door = frontDoor({ contexts, route: api.fetch, writeMethods: declared.writeMethods })
  return (method: string, path: string, token?: string, body?: unknown) =>
    door.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
}

type Send = ReturnType<typeof routesBehind>

/** Each write the API offers, on the existing config or a new one. */
async function writeStatuses(send: Send, token?: string) {
  const config = { metadata: { v: 2 } }
  const answers = [
    ['create', await send('POST', '/configs', token, { dcname: 'datacenter-9', ...config })],
    ['replace', await send('PUT', `/configs/${EXISTING}`, token, config)],
    ['create by PUT', await send('PUT', '/configs/datacenter-8', token, config)],
    ['patch', await send('PATCH', `/configs/${EXISTING}`, token, config)],
    ['rollback', await send('POST', `/configs/${EXISTING}/rollback`, token, { revision: 1 })],
    ['delete', await send('DELETE', `/configs/${EXISTING}`, token)],
  ] as const
  return answers.map(([what, response]) => [what, response.status])
}

async function stored() {
  const page = await store.list({ filters: [], limit: 100 })
  return { items: page.items.map(({ config, revision }) => ({ config, revision })), revision: page.revision }
}

describe('the config routes with the gate bypassed', () => {
  it('when every route is declared open, then every write without a principal is refused by the handler and nothing changes', async () => {
    const before = await stored()
    const send = routesBehind(() => OPEN)
    expect(await writeStatuses(send)).toEqual([
      ['create', 401],
      ['replace', 401],
      ['create by PUT', 401],
      ['patch', 401],
      ['rollback', 401],
      ['delete', 401],
    ])
    expect((await send('GET', `/configs/${EXISTING}`)).status).toBe(401)
    expect(await stored()).toEqual(before)
  })

  it("when every route is declared a read, then a reader's writes pass the gate but are refused by the handler and nothing changes", async () => {
    const before = await stored()
    const send = routesBehind((access) => ('action' in access ? { ...access, action: 'get' } : access))
    expect(await writeStatuses(send, 'reader-token')).toEqual([
      ['create', 403],
      ['replace', 403],
      ['create by PUT', 403],
      ['patch', 403],
      ['rollback', 403],
      ['delete', 403],
    ])
    expect((await send('GET', `/configs/${EXISTING}`, 'reader-token')).status).toBe(200)
    expect(await stored()).toEqual(before)
  })
})
