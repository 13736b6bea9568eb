/**
 * One watch as the domain sees it: which events it shows, in what order, and when. It takes each
 * event once, in revision order (watch-position.ts); with `since` it replays the kept history a
 * page at a time, joins the replay to the live events with no gap and no duplicate
 * (early-events.ts), then goes live. It hands what its client is to see to a `WatchSink` (an
 * HTTP stream: frames, bytes, heart-beats) and never holds more there than its budget.
 *
 * The budget is in the sink's units (an HTTP stream counts frame bytes), as `WatchSizes` measures
 * them; the sink says what it holds that its client has not taken. Live, an event that does not
 * fit makes the watch fall behind (one larger than the whole budget still goes when nothing else
 * is held, and what the sink holds goes first when its client has room). Live events that arrived
 * together are handed to the sink together, for it to send as one. A replay asks for a page sized to the room left, once the sink holds at most half of
 * the budget, and keeps what does not fit yet until the sink took enough. Live events meanwhile
 * wait as early events within the budget, or are let go and read from the store; the watch goes
 * live once a page found nothing more and the early events hold every event since that read began.
 */
import { HistoryCompactedError } from '../config-store.ts'
import { EarlyEvents, type WatchedEvent } from './early-events.ts'
import { type EventView, WatchPosition } from './watch-position.ts'
import type { ReadChanges } from './watch-start.ts'

/** What a watch's sink may hold for its client that the client has not taken yet. */
export interface WatchBudget {
  events: number
  /** In the sink's units (bytes of frames for an HTTP stream). */
  size: number
}

/** How large an event is in the sink's units. */
export interface WatchSizes<E> {
  /** `event` as the sink sends it, shown as `shown` (a filtered view may show it as another type). */
  of(event: E, shown: E): number
  /** An event held before the watch goes live, not shown yet: at least its size however it is shown. */
  early(event: E): number
}

/** Where a watch hands what its client sees, and is told what the client has not taken yet. */
export interface WatchSink<E> {
  /** Events handed over that the client has not taken yet. */
  heldEvents(): number
  /** Their size, with what the sink holds of them in any form (see WatchSizes). */
  heldSize(): number
  /**
   * A live event, sent at once when the sink holds nothing and its client has room (an event
   * goes then whatever its size); false when it must be held instead.
   */
  sendAtOnce(event: E, shown: E): boolean
  /** An event to hold until the sink sends what it holds (in batches); the budget allowed it. */
  hold(event: E, shown: E): void
  /**
   * Live events that arrived together, handed over (`sendAtOnce`, `hold`) by `handOver`: the
   * sink holds them until the last, then sends what it holds (as one chunk where it can).
   */
  together(handOver: () => void): void
  /** Events were held outside a `tookSome`: send what there is room for. */
  drain(): void
  /** The watch ended: it fell past its budget, or (`stalled`) the client took nothing while its replay waited. */
  fellBehind(stalled: boolean): void
  /** The watch ended: it cannot go on without a gap (feed lost, history compacted); list again. */
  lost(error: Error): void
  /** The watch ended: a page of its replay after the first could not be read. */
  unavailable(): void
}

/** Events and stored bytes per page of a replay, at most: a page is parsed whole at once. */
const PAGE_EVENTS = 256
const PAGE_BYTES = 256 * 1024

export class Watcher<E extends WatchedEvent> {
  private state: 'starting' | 'replaying' | 'live' | 'ended' = 'starting'
  private order = new WatchPosition<E>()
  private readChanges: ReadChanges<E> | undefined
  private readonly early: EarlyEvents<E>
  private reading = false
  /** Events of the last page that do not fit the budget yet (one larger than the room left). */
  private readonly waiting = new WaitingEvents<E>()

  constructor(
    private readonly budget: WatchBudget,
    private readonly sizes: WatchSizes<E>,
    private readonly sink: WatchSink<E>,
  ) {
    this.early = new EarlyEvents(sizes.early)
  }

  /** Started and not ended: the sink may send what it holds. */
  get running(): boolean {
    return this.state === 'replaying' || this.state === 'live'
  }

  get ended(): boolean {
    return this.state === 'ended'
  }

  /** Every committed change, in revision order, from before the watch starts. */
  receive(event: E): void {
    if (this.state === 'live') this.takeLive(event)
    else if (this.state !== 'ended' && event.revision > this.order.revision) {
      this.early.add(event)
      if (!this.earlyFits()) this.early.letGo()
    }
  }

  /**
   * Events that arrived together (one turn of the feed), in order. Live, the sink gets them
   * together; one alone, or before the watch is live, is taken as `receive` takes it.
   */
  receiveAll(events: readonly E[]): void {
    if (this.state !== 'live' || events.length === 1) {
      for (const event of events) this.receive(event)
      return
    }
    this.sink.together(() => {
      for (const event of events) {
        if (this.state !== 'live') break
        this.takeLive(event)
      }
    })
  }

  /**
   * Starts after revision `from`: reads the kept history after it first when `replay` (or when
   * live events came faster than the start could hold them), then goes live with what arrived
   * meanwhile. Fails, before anything is handed to the sink, when the first page cannot be read.
   */
  async start(view: EventView<E>, from: number, readChanges: ReadChanges<E>, replay: boolean): Promise<void> {
    if (this.state === 'ended') return
    this.order = new WatchPosition(view, from)
    this.readChanges = readChanges
    this.state = 'replaying'
    // Without a replay, the early events hold every event since the feed was subscribed, which
    // was before `from` was read: unless they were let go, nothing after `from` is missing.
    if (replay || this.early.overflows > 0) await this.readPage()
    else this.early.caughtUp = true
  }

  /** The sink sent some of what it held: events of the replay move in as far as the budget allows. */
  tookSome(): void {
    if (this.state === 'replaying') this.admit()
  }

  /** The sink sent all it could: the replay reads its next page when there is room, or goes live. */
  tookAll(): void {
    if (this.state !== 'replaying') return
    this.admit()
    if (this.reading || this.waiting.length > 0) return
    if (this.early.caughtUp && this.goLive()) {
      this.sink.drain()
      return
    }
    const { events, size } = this.budget
    if (this.sink.heldSize() <= size / 2 && this.sink.heldEvents() <= events / 2) void this.continueReplay()
  }

  /**
   * The client took nothing for a while although the sink holds events: a replay waiting for
   * room it never makes falls behind. True when the watch ended for it.
   */
  clientStalled(): boolean {
    if (this.state !== 'replaying' || this.reading) return false
    this.fallBehind(true)
    return true
  }

  /** The feed cannot deliver without a gap (see ConfigStore.subscribe). */
  lost(error: Error): void {
    if (this.end()) this.sink.lost(error)
  }

  /** Ends the watch; true when it was running until now. The sink is not told (it asked). */
  end(): boolean {
    if (this.state === 'ended') return false
    this.state = 'ended'
    this.early.takeAll()
    this.waiting.clear()
    return true
  }

  private takeLive(event: E): void {
    const shown = this.order.take(event)
    // A client that keeps up gets it at once: nothing held, so the budget allows it.
    if (shown === undefined || this.sink.sendAtOnce(event, shown)) return
    const size = this.sizes.of(event, shown)
    if (this.fits(size)) {
      this.sink.hold(event, shown)
      return
    }
    // What the sink holds goes first where its client has room (events that arrived together
    // are held until the last of them): only then does the watch fall behind.
    this.sink.drain()
    if (this.state === 'live' && this.fits(size)) this.sink.hold(event, shown)
    else this.fallBehind(false)
  }

  /** True when an event of `size` can be handed over within the budget. */
  private fits(size: number): boolean {
    if (this.sink.heldEvents() >= this.budget.events) return false
    const held = this.sink.heldSize()
    return held === 0 || held + size <= this.budget.size
  }

  private earlyFits(): boolean {
    return (
      this.sink.heldEvents() + this.waiting.length + this.early.length <= this.budget.events &&
      this.sink.heldSize() + this.waiting.size + this.early.bytes <= this.budget.size
    )
  }

  /** Reads the next page of the replay, sized to the room left in the budget, and takes it in. */
  private async readPage(): Promise<void> {
    const begun = this.early.readBegins()
    const limit = Math.max(1, Math.min(PAGE_EVENTS, this.budget.events - this.sink.heldEvents()))
    // Stored bytes count an event's previous state too: a page about fits, the rest waits.
    const room = Math.max(1, Math.min(PAGE_BYTES, this.budget.size - this.sink.heldSize()))
    this.reading = true
    let page: Awaited<ReturnType<ReadChanges<E>>>
    try {
      page = await (this.readChanges as ReadChanges<E>)(this.order.revision, limit, room)
    } finally {
      this.reading = false
    }
    if (this.state === 'ended') return
    for (const event of page.events) {
      const shown = this.order.take(event)
      if (shown !== undefined) this.waiting.push(event, shown, this.sizes.of(event, shown))
    }
    this.admit()
    this.early.pageRead(this.order.revision, page.more, begun)
  }

  /** Hands the sink the page's events as far as the budget allows. */
  private admit(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting.firstSize)) {
      const [event, shown] = this.waiting.shift()
      this.sink.hold(event, shown)
    }
  }

  private async continueReplay(): Promise<void> {
    try {
      await this.readPage()
    } catch (error) {
      // The watch ends saying what the client can do (a first page's failure is the caller's).
      if (error instanceof HistoryCompactedError) this.lost(error)
      else if (this.end()) this.sink.unavailable()
      return
    }
    this.sink.drain()
  }

  /** Hands over what arrived during the replay, if it fits the budget; else the replay reads on. */
  private goLive(): boolean {
    if (!this.earlyFits()) {
      this.early.letGo()
      return false
    }
    this.state = 'live'
    for (const event of this.early.takeAll()) {
      this.takeLive(event)
      if (this.state !== 'live') break
    }
    return true
  }

  private fallBehind(stalled: boolean): void {
    if (this.end()) this.sink.fellBehind(stalled)
  }
}

/** Events of a replay page waiting for room, each as shown and with its size. */
class WaitingEvents<E> {
  private events: [E, E][] = []
  private sizes: number[] = []
  size = 0

  get length(): number {
    return this.events.length
  }

  get firstSize(): number {
    return this.sizes[0] ?? 0
  }

  push(event: E, shown: E, size: number): void {
    this.events.push([event, shown])
    this.sizes.push(size)
    this.size += size
  }

  shift(): [E, E] {
    this.size -= this.sizes.shift() ?? 0
    return this.events.shift() as [E, E]
  }

  clear(): void {
    this.events = []
    this.sizes = []
    this.size = 0
  }
}
