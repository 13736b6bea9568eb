/**
 * The domain's watcher on its own: how large a page of replay it asks for, when early events no
 * longer fit and are let go, when it goes live, and when it falls behind. Its sink here is a list
 * of what the client has not taken yet, each event as large as its `size`; the history is an
 * array read a page at a time.
 */
import { describe, expect, it } from 'bun:test'
import { HistoryCompactedError } from '../../src/configs/config-store.ts'
import type { ReadChanges } from '../../src/configs/watch/watch-start.ts'
import { type WatchBudget, Watcher, type WatchSink } from '../../src/configs/watch/watcher.ts'

interface Sized {
  revision: number
  size: number
}

const sized = (revision: number, size = 100): Sized => ({ revision, size })
const SIZES = { of: (event: Sized) => event.size, early: (event: Sized) => event.size }

/** What the client has not taken yet, what it took, and how the watch ended. */
class ListSink implements WatchSink<Sized> {
  held: { event: Sized; how: 'live' | 'replayed' }[] = []
  took: number[] = []
  /** The client reads as fast as events come: a live event goes at once when nothing is held. */
  keepsUp = false
  drains = 0
  ending: string | undefined
  watcher!: Watcher<Sized>

  heldEvents(): number {
    return this.held.length
  }
  heldSize(): number {
    return this.held.reduce((sum, { event }) => sum + event.size, 0)
  }
  sendAtOnce(event: Sized): boolean {
    this.offered = event
    if (this.batching || !this.keepsUp || this.held.length > 0) return false
    this.took.push(event.revision)
    return true
  }
  hold(event: Sized): void {
    this.held.push({ event, how: this.offered === event ? 'live' : 'replayed' })
  }
  /** The last event offered to send at once: one held right after it is a live one. */
  private offered: Sized | undefined
  /** Events handed over in `together`: held until the last of them. */
  private batching = false
  /** The revisions held by each `together`. */
  batches: number[][] = []
  together(handOver: () => void): void {
    const from = this.took.length + this.held.length
    this.batching = true
    handOver()
    this.batching = false
    this.batches.push([...this.took, ...this.held.map(({ event }) => event.revision)].slice(from))
    this.drain()
  }
  /** A client that keeps up takes what is held. */
  drain(): void {
    this.drains++
    if (this.keepsUp) this.took.push(...this.held.splice(0).map(({ event }) => event.revision))
  }
  fellBehind(stalled: boolean): void {
    this.ending = stalled ? 'stalled' : 'fell behind'
  }
  lost(error: Error): void {
    this.ending = `lost: ${error.constructor.name}`
  }
  unavailable(): void {
    this.ending = 'unavailable'
  }

  /** The client takes up to `n` events; the sink sent what it could. */
  take(n = Number.POSITIVE_INFINITY): void {
    this.took.push(...this.held.splice(0, n).map(({ event }) => event.revision))
    this.watcher.tookSome()
    this.watcher.tookAll()
  }
}

/** A kept history: pages of at most `limit` events after `after`; `hold` keeps the next read waiting. */
class History {
  events: Sized[] = []
  reads: { after: number; limit: number; bytes: number }[] = []
  failWith: Error | undefined
  private held: (() => void) | undefined

  read: ReadChanges<Sized> = async (after, limit, bytes) => {
    this.reads.push({ after, limit, bytes })
    if (this.held) {
      await new Promise<void>((resolve) => {
        this.held = resolve
      })
    }
    if (this.failWith) throw this.failWith
    const rest = this.events.filter((event) => event.revision > after)
    return { events: rest.slice(0, limit), more: rest.length > limit }
  }

  /** The next read waits until `release`. */
  hold(): void {
    this.held = () => {}
  }

  release(): void {
    const resolve = this.held
    this.held = undefined
    resolve?.()
  }
}

const ALL = { see: (event: Sized) => event }

function watcherWith(budget: WatchBudget) {
  const sink = new ListSink()
  const watcher = new Watcher(budget, SIZES, sink)
  sink.watcher = watcher
  return { sink, watcher, history: new History() }
}

/** Lets pending promise continuations (a released read) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Watcher: the pages of a replay', () => {
  it('when it replays, then each page asks for at most the events and the size left in the budget', async () => {
    const { sink, watcher, history } = watcherWith({ events: 10, size: 1000 })
    sink.held.push({ event: sized(0, 300), how: 'live' }, { event: sized(0, 100), how: 'live' })
    await watcher.start(ALL, 0, history.read, true)
    expect(history.reads).toEqual([{ after: 0, limit: 8, bytes: 600 }])
  })

  it('when the budget is large, then a page asks for 256 events and 256 KiB at most', async () => {
    const { watcher, history } = watcherWith({ events: 1000, size: 4 << 20 })
    await watcher.start(ALL, 0, history.read, true)
    expect(history.reads).toEqual([{ after: 0, limit: 256, bytes: 256 * 1024 }])
  })

  it('when a page holds more than fits, then the rest waits until the client took some', async () => {
    const { sink, watcher, history } = watcherWith({ events: 10, size: 250 })
    history.events = [1, 2, 3, 4].map((revision) => sized(revision))
    await watcher.start(ALL, 0, history.read, true)
    expect(sink.held.map(({ event }) => event.revision)).toEqual([1, 2])
    sink.take(1)
    expect(sink.held.map(({ event }) => event.revision)).toEqual([2, 3])
    expect(sink.held.every(({ how }) => how === 'replayed')).toBe(true)
  })

  it('when an event of the history is larger than the whole budget, then it goes once nothing else is held', async () => {
    const { sink, watcher, history } = watcherWith({ events: 10, size: 250 })
    history.events = [sized(1), sized(2, 1000), sized(3)]
    await watcher.start(ALL, 0, history.read, true)
    expect(sink.held.map(({ event }) => event.revision)).toEqual([1])
    sink.take()
    expect(sink.held.map(({ event }) => event.revision)).toEqual([2])
    sink.take()
    expect(sink.took).toEqual([1, 2])
    expect(sink.held.map(({ event }) => event.revision)).toEqual([3])
  })

  it('when the sink holds more than half the budget, then the next page waits; at half, it is read', async () => {
    const { sink, watcher, history } = watcherWith({ events: 4, size: 10_000 })
    history.events = [1, 2, 3, 4, 5, 6].map((revision) => sized(revision))
    await watcher.start(ALL, 0, history.read, true)
    expect(history.reads).toHaveLength(1)
    sink.take(1) // 3 of 4 held: more than half
    expect(history.reads).toHaveLength(1)
    sink.take(1) // 2 of 4: half
    await settle()
    expect(history.reads.map((read) => read.after)).toEqual([0, 4])
    expect(history.reads[1]?.limit).toBe(2)
  })
})

describe('Watcher: early events and going live', () => {
  it('when live events arrive during the replay, then it goes live with them once a page found nothing more, each once', async () => {
    const { sink, watcher, history } = watcherWith({ events: 100, size: 100_000 })
    history.events = [sized(1), sized(2)]
    history.hold()
    const started = watcher.start(ALL, 0, history.read, true)
    // 2 committed before the page was read, so it is in the page too; 3 after it, so only live.
    watcher.receive(sized(2))
    watcher.receive(sized(3))
    history.release()
    await started
    sink.take()
    expect(sink.held).toEqual([{ event: sized(3), how: 'live' }])
    expect(sink.drains).toBe(1)
    watcher.receive(sized(4))
    sink.take()
    expect(sink.took).toEqual([1, 2, 3, 4])
  })

  it('when early events no longer fit beside what the sink holds, then they are let go and read from the store', async () => {
    const { sink, watcher, history } = watcherWith({ events: 3, size: 100_000 })
    history.events = [sized(1)]
    history.hold()
    const started = watcher.start(ALL, 0, history.read, true)
    for (const revision of [2, 3, 4, 5]) {
      history.events.push(sized(revision))
      watcher.receive(sized(revision))
    }
    history.release()
    await started
    // 2 to 5 were let go while the first page was read: it cannot have caught up.
    sink.take()
    await settle()
    expect(history.reads.map((read) => read.after)).toEqual([0, 3])
    sink.take()
    await settle()
    sink.take()
    expect(sink.took).toEqual([1, 2, 3, 4, 5])
    watcher.receive(sized(6))
    expect(sink.held.map(({ event, how }) => [event.revision, how])).toEqual([[6, 'live']])
  })

  it('when it starts without a replay, then it reads nothing and goes live at once', async () => {
    const { sink, watcher, history } = watcherWith({ events: 10, size: 1000 })
    watcher.receive(sized(5))
    watcher.receive(sized(6))
    await watcher.start(ALL, 5, history.read, false)
    sink.take() // goes live with 6
    sink.take()
    expect(history.reads).toEqual([])
    expect(sink.took).toEqual([6])
  })

  it('when it starts without a replay but early events were let go, then it reads them from the store', async () => {
    const { sink, watcher, history } = watcherWith({ events: 1, size: 1000 })
    history.events = [sized(6), sized(7)]
    watcher.receive(sized(6))
    watcher.receive(sized(7))
    await watcher.start(ALL, 5, history.read, false)
    expect(history.reads.map((read) => read.after)).toEqual([5])
    sink.take()
    await settle()
    sink.take()
    await settle()
    sink.take()
    expect(sink.took).toEqual([6, 7])
  })
})

/** A watcher gone live with nothing held. */
async function live(budget: WatchBudget) {
  const parts = watcherWith(budget)
  await parts.watcher.start(ALL, 0, parts.history.read, false)
  parts.sink.take()
  return parts
}

describe('Watcher: falling behind', () => {
  it('when a live event does not fit the events left, then the watch falls behind and takes nothing more', async () => {
    const { sink, watcher } = await live({ events: 2, size: 100_000 })
    for (const revision of [1, 2, 3, 4]) watcher.receive(sized(revision))
    expect(sink.ending).toBe('fell behind')
    expect(sink.held.map(({ event }) => event.revision)).toEqual([1, 2])
    expect(watcher.ended).toBe(true)
  })

  it('when a live event does not fit the size left, then the watch falls behind', async () => {
    const { sink, watcher } = await live({ events: 100, size: 250 })
    for (const revision of [1, 2, 3]) watcher.receive(sized(revision))
    expect(sink.ending).toBe('fell behind')
  })

  it('when nothing is held, then an event larger than the whole budget still goes', async () => {
    const { sink, watcher } = await live({ events: 100, size: 250 })
    watcher.receive(sized(1, 1000))
    expect(sink.ending).toBeUndefined()
    expect(sink.held.map(({ event }) => event.revision)).toEqual([1])
  })

  it('when the client keeps up, then live events go at once, one larger than the budget too', async () => {
    const { sink, watcher } = await live({ events: 1, size: 250 })
    sink.keepsUp = true
    for (const revision of [1, 2, 3]) watcher.receive(sized(revision, 1000))
    expect([sink.took, sink.held, sink.ending]).toEqual([[1, 2, 3], [], undefined])
  })

  it('when the client takes nothing while the replay waits for room, then it falls behind as stalled', async () => {
    const { sink, watcher, history } = watcherWith({ events: 2, size: 100_000 })
    history.events = [1, 2, 3].map((revision) => sized(revision))
    await watcher.start(ALL, 0, history.read, true)
    expect(watcher.clientStalled()).toBe(true)
    expect(sink.ending).toBe('stalled')
  })

  it('when the client takes nothing while live, then it is not stalled (the budget decides)', async () => {
    const { sink, watcher } = await live({ events: 2, size: 100_000 })
    watcher.receive(sized(1))
    expect(watcher.clientStalled()).toBe(false)
    expect(sink.ending).toBeUndefined()
  })
})

describe('Watcher: events that arrived together', () => {
  it('when live events arrive together, then the sink gets them together, and one alone at once', async () => {
    const { sink, watcher } = await live({ events: 10, size: 1000 })
    sink.keepsUp = true
    watcher.receiveAll([1, 2, 3].map((revision) => sized(revision)))
    expect(sink.batches).toEqual([[1, 2, 3]])
    watcher.receiveAll([sized(4)])
    expect([sink.batches.length, sink.took, sink.ending]).toEqual([1, [1, 2, 3, 4], undefined])
  })

  it('when events arriving together exceed the budget, then what is held goes first to a client that keeps up', async () => {
    const { sink, watcher } = await live({ events: 2, size: 250 })
    sink.keepsUp = true
    watcher.receiveAll([1, 2, 3, 4, 5].map((revision) => sized(revision)))
    expect([sink.took, sink.ending]).toEqual([[1, 2, 3, 4, 5], undefined])
    sink.keepsUp = false
    watcher.receiveAll([6, 7, 8].map((revision) => sized(revision)))
    expect([sink.held.length, sink.ending]).toEqual([2, 'fell behind'])
  })

  it('when events arrive together before the watch is live, then they wait as early events', async () => {
    const { sink, watcher, history } = watcherWith({ events: 10, size: 1000 })
    watcher.receiveAll([sized(6), sized(7)])
    await watcher.start(ALL, 5, history.read, false)
    sink.take() // goes live with 6 and 7
    sink.take()
    expect([sink.took, sink.batches]).toEqual([[6, 7], []])
  })
})

describe('Watcher: a later page that cannot be read', () => {
  const failing = async (error: Error) => {
    const { sink, watcher, history } = watcherWith({ events: 2, size: 100_000 })
    history.events = [1, 2, 3].map((revision) => sized(revision))
    await watcher.start(ALL, 0, history.read, true)
    history.failWith = error
    sink.take()
    await settle()
    return sink.ending
  }

  it('when the store fails, then the watch ends as unavailable', async () => {
    expect(await failing(new Error('connection refused'))).toBe('unavailable')
  })

  it('when the history was compacted, then the watch is lost (the client lists again)', async () => {
    expect(await failing(new HistoryCompactedError(2, 3))).toBe('lost: HistoryCompactedError')
  })

  it('when the first page cannot be read, then start fails and nothing was handed over', async () => {
    const { sink, watcher, history } = watcherWith({ events: 2, size: 100_000 })
    history.failWith = new Error('down')
    await expect(watcher.start(ALL, 0, history.read, true)).rejects.toThrow('down')
    expect(sink.held).toEqual([])
  })
})
