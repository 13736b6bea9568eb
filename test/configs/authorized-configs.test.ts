/**
 * AuthorizedConfigs, the handlers' only way to the store, over a real SQLite store: each method
 * authorizes the caller's principal for its own action before it touches the store, so a
 * request that reached a handler with no principal, or with one the access gate should have
 * refused, changes nothing; lists, searches, watches and history keep to the caller's prefixes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { ForbiddenError, type Principal, UnauthenticatedError } from '../../src/configs/access.ts'
import { AuthorizedConfigs, type Caller } from '../../src/configs/authorized-configs.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'

const NOBODY: Caller = { principal: undefined, requestId: 'r-1' }
const caller = (principal: Principal): Caller => ({ principal, requestId: 'r-2' })
const READER = caller({ actor: 'reader', role: 'reader' })
const SCOPED_WRITER = caller({ actor: 'team-a', role: 'writer', prefixes: ['team-a-'] })
const ANONYMOUS_READER = caller({ actor: 'anonymous', role: 'reader', anonymous: true })
const ADMIN = caller({ actor: 'admin', role: 'admin' })
const LIST = { filters: [], limit: 100 }

let store: SqliteConfigStore
let configs: AuthorizedConfigs

beforeAll(async () => {
  store = new SqliteConfigStore({ path: ':memory:', open: openBunSqlite })
  for (const dcname of ['team-a-1', 'team-b-1']) {
    await store.create({ dcname, metadata: { v: 1 } }, { actor: 'seed', requestId: '' })
  }
  configs = new AuthorizedConfigs(store)
})
afterAll(() => store.close())

/** Every write the facade offers, on `dcname`. */
const writes = (who: Caller, dcname: string): [string, () => Promise<unknown>][] => [
  ['create', () => configs.create(who, { dcname: `${dcname}-new`, metadata: {} })],
  ['replace', () => configs.replace(who, { dcname, metadata: { v: 2 } }, {})],
  ['patch', () => configs.update(who, dcname, (current) => current, {})],
  ['delete', () => configs.delete(who, dcname, {})],
  ['rollback', () => configs.rollback(who, dcname, 1, {})],
]

/** Every read the facade offers, on `dcname`. */
const reads = (who: Caller, dcname: string): [string, () => unknown][] => [
  ['get', () => configs.get(who, dcname)],
  ['getAt', () => configs.getAt(who, dcname, 1)],
  ['history', () => configs.history(who, dcname, { limit: 10 })],
  ['list', () => configs.list(who, LIST)],
  ['search', () => configs.list(who, LIST, 'search')],
  ['watch', () => configs.watchScope(who)],
]

async function refusal(call: () => unknown): Promise<string> {
  try {
    await call()
    return 'allowed'
  } catch (error) {
    if (error instanceof UnauthenticatedError) return '401'
    if (error instanceof ForbiddenError) return '403'
    throw error
  }
}

async function stored() {
  return (await store.list(LIST)).items.map(({ config, revision }) => ({ config, revision }))
}

describe('AuthorizedConfigs', () => {
  it('when a caller has no principal, then every read and write is refused as unauthenticated and nothing changes', async () => {
    const before = await stored()
    for (const [what, call] of [...writes(NOBODY, 'team-a-1'), ...reads(NOBODY, 'team-a-1')]) {
      expect([what, await refusal(call)]).toEqual([what, '401'])
    }
    expect(await stored()).toEqual(before)
  })

  it('when a reader or an anonymous reader writes, then each write is refused and nothing changes', async () => {
    const before = await stored()
    for (const [who, status] of [
      [READER, '403'],
      [ANONYMOUS_READER, '401'],
    ] as const) {
      for (const [what, call] of writes(who, 'team-a-1')) expect([what, await refusal(call)]).toEqual([what, status])
    }
    expect(await stored()).toEqual(before)
  })

  it('when a scoped writer acts on a config outside its prefixes, then every read and write of it is refused and nothing changes', async () => {
    const before = await stored()
    const named = [...writes(SCOPED_WRITER, 'team-b-1'), ...reads(SCOPED_WRITER, 'team-b-1')].filter(
      ([what]) => !['list', 'search', 'watch'].includes(what),
    )
    for (const [what, call] of named) expect([what, await refusal(call)]).toEqual([what, '403'])
    expect(await stored()).toEqual(before)
  })

  it('when a scoped caller lists, searches or watches, then it sees only the configs inside its prefixes', async () => {
    const names = async (action: 'list' | 'search') =>
      (await configs.list(SCOPED_WRITER, LIST, action)).items.map(({ config }) => config.dcname)
    expect(await names('list')).toEqual(['team-a-1'])
    expect(await names('search')).toEqual(['team-a-1'])
    expect(configs.watchScope(SCOPED_WRITER)).toEqual(['team-a-'])
    expect(configs.watchScope(ADMIN)).toBeUndefined()
  })

  it('when an allowed caller writes, then the history entry names its actor and request id', async () => {
    const { stored: written } = await configs.replace(SCOPED_WRITER, { dcname: 'team-a-1', metadata: { v: 3 } }, {})
    const [entry] = (await configs.history(SCOPED_WRITER, 'team-a-1', { limit: 1 })).entries
    expect(entry).toMatchObject({ revision: written.revision, actor: 'team-a', requestId: 'r-2' })
  })
})
