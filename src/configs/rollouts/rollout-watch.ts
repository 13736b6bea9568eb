/**
 * A rollout watch (`GET /rollouts?watch=true[&since=<seq>]`) in the domain's watch order
 * (configs/watch/): its events are the rollout event log's, numbered by `seq`, so the same
 * watcher replays the log after `since`, joins it to the live feed with no gap and no duplicate,
 * and shows each event only to a caller who may read its rollout (the view).
 */

import type { EventView } from '../watch/watch-position.ts'
import type { WatchStart } from '../watch/watch-start.ts'
import type { RolloutEvent, RolloutEventPage } from './rollout-store.ts'

/** What one caller's rollout watch reaches: the feed, the log, and what the caller may see of it. */
export interface RolloutWatch {
  /** Hears every event logged from when it resolves; `onLost`: the feed cannot go on without a gap. */
  subscribe(listener: (event: RolloutEvent) => void, onLost: (error: Error) => void): Promise<() => void>
  newest(): Promise<number>
  eventsAfter(after: number, limit: number): Promise<RolloutEventPage>
  view: EventView<RolloutEvent>
}

/**
 * Every event after `since` (replayed from the log: HistoryCompactedError, a 410, when the log
 * no longer holds them all), or after the newest now. Call after subscribing, so nothing logged
 * meanwhile is lost.
 */
export async function rolloutWatchStart(
  watch: RolloutWatch,
  since: number | undefined,
): Promise<WatchStart<RolloutEvent>> {
  const from = since ?? (await watch.newest())
  return {
    view: watch.view,
    from,
    // Rollout events are small: a page is bounded by its count alone.
    readChanges: (after, limit) => watch.eventsAfter(after, limit),
    replay: since !== undefined,
  }
}
