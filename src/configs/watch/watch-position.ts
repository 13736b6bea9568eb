/**
 * Where one watch stands in the store's revision order: the highest revision it took in, from the
 * history or live. Each event is taken once and in order: one at or below the position is a
 * duplicate (a live event the replay already read, or one PostgreSQL's feed delivered from just
 * before the subscription) and is dropped; the rest are seen through the watch's view.
 */
import type { ChangeEvent } from '../config-store.ts'
import { WatchView } from '../watch-view.ts'

export class WatchPosition {
  constructor(
    private readonly view: WatchView = WatchView.unfiltered(),
    /** Anything at or below it is a duplicate. */
    public revision = 0,
  ) {}

  /** The event as the watch is sent it, or undefined: a duplicate, or outside the view. */
  take(event: ChangeEvent): ChangeEvent | undefined {
    if (event.revision <= this.revision) return undefined
    this.revision = event.revision
    return this.view.see(event)
  }
}
