/**
 * Rollout events as they happen, for watches: each new timeline entry of any rollout (created,
 * approved, wave-started, wave-applied, wave-baked, gate-failed, paused, resumed, reverting,
 * reverted, completed, aborted...), with the rollout as it was then.
 *
 * The feed reads the rollout store every `pollMs` while anyone listens, and compares each
 * rollout's timeline with what it saw last. Reading the store rather than hearing of saves in
 * this process means a watcher on any replica sees the steps of the driver on another one
 * (PostgreSQL), and a poll that fails loses nothing: the next one compares again.
 */
import { isFinished, type Rollout, type TimelineEntry } from './rollout-model.ts'
import type { RolloutStore } from './rollout-store.ts'

export interface RolloutEvent {
  /** This feed's sequence number: orders the events of one stream (not a store revision). */
  revision: number
  rollout: Rollout
  entry: TimelineEntry
}

type Listener = (event: RolloutEvent) => void

/** Besides the active rollouts, the newest ones are read: those just created or just finished. */
const NEWEST = 50

interface Seen {
  version: number
  /** The last timeline entry taken in, as JSON: new entries are those after it. */
  last: string | undefined
  finished: boolean
}

export class RolloutFeed {
  private readonly listeners = new Set<Listener>()
  private seen = new Map<string, Seen>()
  private sequence = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private started: Promise<void> | undefined
  /** Bumped when the last listener leaves: a poll still running then is let go. */
  private generation = 0

  constructor(
    private readonly store: Pick<RolloutStore, 'active' | 'list' | 'get'>,
    private readonly pollMs: number,
  ) {}

  /**
   * Hears every event from the moment the returned promise resolves (after a first read of the
   * store, whose timelines are taken as already told). Returns the unsubscribe.
   */
  async subscribe(listener: Listener): Promise<() => void> {
    if (this.listeners.size === 0 && this.started === undefined) {
      this.started = this.poll(false).finally(() => {
        this.started = undefined
      })
    }
    this.listeners.add(listener)
    try {
      await this.started
    } catch (error) {
      this.unsubscribe(listener)
      throw error
    }
    this.schedule()
    return () => this.unsubscribe(listener)
  }

  private unsubscribe(listener: Listener): void {
    this.listeners.delete(listener)
    if (this.listeners.size > 0) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.seen = new Map()
    this.generation++
  }

  private schedule(): void {
    if (this.timer !== undefined || this.listeners.size === 0) return
    const timer = setTimeout(async () => {
      try {
        await this.poll(true)
      } catch {
        // The store did not answer: the next poll compares from what was seen, nothing is lost.
      }
      // Everyone left while it ran (and maybe a new feed loop began): this loop ends here.
      if (this.timer !== timer) return
      this.timer = undefined
      this.schedule()
    }, this.pollMs)
    this.timer = timer
  }

  private async poll(tell: boolean): Promise<void> {
    const generation = this.generation
    const read = new Map<string, { rollout: Rollout; version: number }>()
    for (const stored of [...(await this.store.active()), ...(await this.store.list({ limit: NEWEST })).items]) {
      read.set(stored.rollout.id, stored)
    }
    // A rollout seen running that is neither active nor among the newest: it just finished.
    for (const [id, { finished }] of this.seen) {
      if (finished || read.has(id)) continue
      const stored = await this.store.get(id)
      if (stored) read.set(id, stored)
    }
    if (generation !== this.generation) return
    const seen = new Map<string, Seen>()
    for (const { rollout, version } of read.values()) {
      const before = this.seen.get(rollout.id)
      const last = rollout.timeline.at(-1)
      seen.set(rollout.id, { version, last: last && JSON.stringify(last), finished: isFinished(rollout.status) })
      if (!tell || before?.version === version) continue
      for (const entry of newEntries(rollout.timeline, before?.last)) this.tell(rollout, entry)
    }
    // Only rollouts still read are remembered: finished ones drop out once past the newest.
    this.seen = seen
  }

  private tell(rollout: Rollout, entry: TimelineEntry): void {
    const event: RolloutEvent = { revision: ++this.sequence, rollout, entry }
    for (const listener of this.listeners) listener(event)
  }
}

function newEntries(timeline: TimelineEntry[], last: string | undefined): TimelineEntry[] {
  if (last === undefined) return timeline
  for (let i = timeline.length - 1; i >= 0; i--) {
    if (JSON.stringify(timeline[i]) === last) return timeline.slice(i + 1)
  }
  return timeline
}
