/**
 * The rollout watch as an async iterator: `for await (const item of rollouts.watch({ since }))`.
 *
 * It yields each rollout event once, in the order of the service's rollout event log, for as
 * long as the caller reads: a dropped connection, a restart or an `ERROR` event is followed by a
 * reconnect with `since=<the last event yielded>`, so nothing is lost or repeated (the loop of
 * resuming-watch.ts). Without `since` it starts from the log's newest event now (`X-Revision` of
 * a one-item list). When the service no longer keeps the events to resume from (410), it yields
 * one `RELIST` item with the newest event now and goes on after it: read again what you follow
 * (the rollout, or the list). It ends when the caller stops reading or `signal` aborts; 400, 401
 * and 403 are thrown as ProblemError.
 */
import type { RolloutStatus } from '../configs/rollouts/rollout-model.ts'
import type { ConfigClientCore } from './requests.ts'
import { type ResumeOptions, resumingWatch } from './resuming-watch.ts'

export type RolloutWatchOptions = ResumeOptions

/** A rollout event, exactly the `data` of its server-sent event. */
export interface RolloutWatchEvent {
  /** The timeline entry: created, wave-started, gate-failed, reverted, completed, ... */
  type: string
  /** Its place in the rollout event log: resume after it with `since`. */
  revision: number
  /** The rollout's id. */
  id: string
  /** The rollout's status and wave once that entry was saved. */
  status: RolloutStatus
  wave: number
  time: string
  entryWave?: number
  dcname?: string
  detail?: string
}

/** After a 410: events up to `revision` are gone; the ones after it follow. */
export interface RolloutWatchRelist {
  type: 'RELIST'
  revision: number
}

export function watchRollouts(
  client: ConfigClientCore,
  options: RolloutWatchOptions,
): AsyncGenerator<RolloutWatchEvent | RolloutWatchRelist, void, undefined> {
  const newest = async (signal: AbortSignal) => {
    const response = await client.request('/rollouts?limit=1', { method: 'GET', signal })
    await response.body?.cancel()
    return Number(response.headers.get('x-revision') ?? 0)
  }
  return resumingWatch<RolloutWatchEvent, RolloutWatchRelist>(client, options, {
    name: 'rollout watch',
    newest,
    path: (since) => `/rollouts?watch=true&since=${since}`,
    parse: (message) => JSON.parse(message.data) as RolloutWatchEvent,
    relist: async (signal) => ({ type: 'RELIST', revision: await newest(signal) }),
  })
}
