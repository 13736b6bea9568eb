/** The watch API suites on a throwaway PostgreSQL server, one new database per service process. */
import { afterAll, beforeAll } from 'bun:test'
import { type PostgresServer, startPostgres } from '../support/postgres.ts'
import { describeWatchReplay } from './watch-replay-suite.ts'
import { describeWatchApi } from './watch-suite.ts'

let postgres: PostgresServer
beforeAll(async () => {
  postgres = await startPostgres()
}, 60_000)
afterAll(async () => {
  await postgres?.dispose()
}, 30_000)

describeWatchApi('postgres', () => postgres.createDatabase('watch'))
describeWatchReplay('postgres', () => postgres.createDatabase('watch'))
