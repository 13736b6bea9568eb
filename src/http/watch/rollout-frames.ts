/**
 * The frame of a rollout event, made once and shared by every rollout watcher that sees it:
 * named by the timeline entry, with its place in the rollout event log as `id` and `revision`
 * (what a watch resumes after with `since`), the rollout's id, and its status and wave once
 * that entry was saved.
 *
 *   event: gate-failed
 *   id: 7
 *   data: {"type":"gate-failed","revision":7,"id":"ro-3f2a9c1e-7b4d","status":"reverting","wave":2,
 *          "time":"2026-01-01T00:00:00.000Z","entryWave":2,"detail":"wave 3: gate ..."}
 */
import type { RolloutEvent } from '../../configs/rollouts/rollout-store.ts'
import type { WatchFraming } from './frames.ts'
import { sseEvent } from './sse.ts'

const encoder = new TextEncoder()
const frames = new WeakMap<RolloutEvent, Uint8Array>()

function rolloutFrameOf(event: RolloutEvent): Uint8Array {
  let frame = frames.get(event)
  if (frame === undefined) {
    const { entry } = event
    const data = JSON.stringify({
      type: entry.event,
      revision: event.revision,
      id: event.rollout,
      status: event.status,
      wave: event.wave,
      time: new Date(entry.time).toISOString(),
      ...(entry.wave === undefined ? {} : { entryWave: entry.wave }),
      ...(entry.dcname === undefined ? {} : { dcname: entry.dcname }),
      ...(entry.detail === undefined ? {} : { detail: entry.detail }),
    })
    frame = encoder.encode(sseEvent(entry.event, data, event.revision))
    frames.set(event, frame)
  }
  return frame
}

export const ROLLOUT_FRAMING: WatchFraming<RolloutEvent> = {
  frame: (event) => rolloutFrameOf(event),
  earlyBytes: (event) => rolloutFrameOf(event).length,
}
