/** The rollout watch suite on SQLite: each server on a fresh file. */
import { describeRolloutWatch } from './rollout-watch-suite.ts'

describeRolloutWatch('sqlite', async () => undefined)
