/** The watch API suites on the test run's PostgreSQL cluster, one new database per service process. */
import { beforeAll } from 'bun:test'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { describeWatchReplay } from './watch-replay-suite.ts'
import { describeWatchApi } from './watch-suite.ts'

let postgres: SharedPostgres
beforeAll(async () => {
  postgres = await sharedPostgres()
}, 60_000)

describeWatchApi('postgres', () => postgres.createDatabase('watch'))
describeWatchReplay('postgres', () => postgres.createDatabase('watch'))
