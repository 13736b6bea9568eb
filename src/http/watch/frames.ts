/**
 * The bytes of one SSE event frame, made once per store event and type, and shared: every
 * unfiltered watcher sends the same frame for an event, and so does every filtered one that
 * sees it as the same type (a config entering a view is ADDED there, whatever the store's type).
 *
 *   event: MODIFIED
 *   id: 42
 *   data: {"type":"MODIFIED","revision":42,"config":{"dcname":"dc-1","metadata":{...}}}
 *
 * For DELETED, `config` is the last state. A rollback's event also has `"rollbackOf":<revision>`,
 * the revision whose state it restored; a rollout's write has `"rollout":"<id>"`.
 */
import type { ChangeEvent, ChangeType } from '../../configs/config-store.ts'
import type { SchemaChangeEvent } from '../../configs/schema-history.ts'
import { sseEvent } from './sse.ts'

const encoder = new TextEncoder()

/** Per store event: its config's JSON text, and the frame of each type asked for so far. */
interface Frames {
  config: string
  byType: Partial<Record<ChangeType, Uint8Array>>
}

const made = new WeakMap<ChangeEvent, Frames>()

/** The frame of `event` sent as `type` (its own, or the one a filtered view sees). */
export function frameOf(event: ChangeEvent, type: ChangeType): Uint8Array {
  let frames = made.get(event)
  if (frames === undefined) {
    frames = { config: event.json ?? JSON.stringify(event.config), byType: {} }
    made.set(event, frames)
  }
  let frame = frames.byType[type]
  if (frame === undefined) {
    const restored = event.rollbackOf === undefined ? '' : `,"rollbackOf":${event.rollbackOf}`
    const rollout = event.rollout === undefined ? '' : `,"rollout":${JSON.stringify(event.rollout)}`
    const data = `{"type":${JSON.stringify(type)},"revision":${event.revision}${restored}${rollout},"config":${frames.config}}`
    frame = encoder.encode(sseEvent(type, data, event.revision))
    frames.byType[type] = frame
  }
  return frame
}

const TYPE_SLACK = 2 * ('MODIFIED'.length - 'ADDED'.length)

/**
 * What a watcher holds for an event before it goes live (see EarlyEvents): its own type's frame;
 * a filtered view may send it as another type, whose name (written twice in the frame) is up to
 * TYPE_SLACK longer.
 */
export function earlyBytes(event: ChangeEvent): number {
  return frameOf(event, event.type).length + TYPE_SLACK
}

const schemaFrames = new WeakMap<SchemaChangeEvent, Uint8Array>()

/**
 * The frame of a schema write, shared by every schema watcher (the feed hands each the same
 * event): as a config event's, with the schema as `GET /schemas/{name}` answers it in `schema`.
 *
 *   event: MODIFIED
 *   id: 42
 *   data: {"type":"MODIFIED","revision":42,"schema":{"name":"payments","prefix":"payments-",...}}
 */
export function schemaFrameOf(event: SchemaChangeEvent): Uint8Array {
  let frame = schemaFrames.get(event)
  if (frame === undefined) {
    const restored = event.rollbackOf === undefined ? '' : `,"rollbackOf":${event.rollbackOf}`
    const schema = JSON.stringify({ ...event.definition, revision: event.revision })
    const data = `{"type":${JSON.stringify(event.type)},"revision":${event.revision}${restored},"schema":${schema}}`
    frame = encoder.encode(sseEvent(event.type, data, event.revision))
    schemaFrames.set(event, frame)
  }
  return frame
}

/**
 * How a watch stream frames the events its watch takes in (the order and the view are the
 * domain's, configs/watch/): the frame of an event, sent as `shown` (a filtered view may send a
 * config event as another type), and what one held before the watcher goes live counts for.
 */
export interface WatchFraming<E> {
  frame(event: E, shown: E): Uint8Array
  earlyBytes(event: E): number
}

export const CONFIG_FRAMING: WatchFraming<ChangeEvent> = {
  frame: (event, shown) => frameOf(event, shown.type),
  earlyBytes,
}

export const SCHEMA_FRAMING: WatchFraming<SchemaChangeEvent> = {
  frame: (event) => schemaFrameOf(event),
  earlyBytes: (event) => schemaFrameOf(event).length,
}
