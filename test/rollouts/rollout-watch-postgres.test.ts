/** The rollout watch suite on the run's shared PostgreSQL server: a new database per server. */
import { sharedPostgres } from '../support/postgres.ts'
import { describeRolloutWatch } from './rollout-watch-suite.ts'

describeRolloutWatch('postgres', async () => (await sharedPostgres()).createDatabase('rollout_watch'))
