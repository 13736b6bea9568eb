/** The prefix suite on a throwaway PostgreSQL server, one new database per service process. */
import { afterAll, beforeAll } from 'bun:test'
import { type PostgresServer, startPostgres } from '../support/postgres.ts'
import { describePrefixApi } from './prefix-suite.ts'

let postgres: PostgresServer
beforeAll(async () => {
  postgres = await startPostgres()
}, 60_000)
afterAll(async () => {
  await postgres?.dispose()
}, 30_000)

describePrefixApi('postgres', () => postgres.createDatabase('prefix'))
