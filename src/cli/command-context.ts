/**
 * What every configctl command gets (built once per run in configctl.ts) and the wrapper that
 * hands it over. Its own module so that the command groups (agent, schema, rollout) need not
 * import configctl.ts, which imports them to register them.
 */
import type { createClient } from '../client/index.ts'
import type { LastApplied } from './last-applied.ts'

export type CommandContext = { client: ReturnType<typeof createClient>; tokenGiven: boolean; records: LastApplied }

/** Runs `action` with the client of the global options; its exit code ends configctl. */
export type WithClient = <Args extends unknown[]>(
  action: (context: CommandContext, ...args: Args) => Promise<number>,
) => (...args: Args) => Promise<void>
