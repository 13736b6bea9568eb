/** The prefix suite on SQLite (a fresh file per service process). */
import { describePrefixApi } from './prefix-suite.ts'

describePrefixApi('sqlite', async () => undefined)
