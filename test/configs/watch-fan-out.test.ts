/**
 * The fan-out of the store's changes to the config watchers: one subscription for all, changes
 * handed over in the turn after the store told of them (those of one turn together), a slice of
 * receivers at a time when there are many (other work of the process runs in between), and every
 * watcher dropped when the feed is lost. The feed is the port's `subscribe` alone, told of changes by the test.
 */
import { describe, expect, it } from 'bun:test'
import { setImmediate } from 'node:timers'
import { type ChangeEvent, type ChangeListener, HistoryCompactedError } from '../../src/configs/config-store.ts'
import { ChangeFanOut, type ChangeReceiver, SLICE, SLICE_MS } from '../../src/configs/watch/change-fan-out.ts'
import { config } from '../support/configs.ts'
import { waitFor } from '../support/wait.ts'

class Feed {
  subscriptions = 0
  listener: ChangeListener | undefined
  onLost: ((error: HistoryCompactedError) => void) | undefined

  subscribe = (listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void) => {
    this.subscriptions++
    this.listener = listener
    this.onLost = onLost
    return () => {
      this.listener = undefined
    }
  }
}

class Receiver implements ChangeReceiver {
  revisions: number[] = []
  /** Called after each hand-over (the test's work queued from inside the fan-out). */
  afterHandOver: (() => void) | undefined
  /** The revisions of each hand-over. */
  handedOver: number[][] = []
  lostWith: Error | undefined
  /** Set to what removes it: then it leaves when told the feed is lost, as a watch stream ends. */
  leave: (() => void) | undefined
  receive(event: ChangeEvent): void {
    this.receiveAll([event])
  }
  receiveAll(events: readonly ChangeEvent[]): void {
    const revisions = events.map((event) => event.revision)
    this.handedOver.push(revisions)
    this.revisions.push(...revisions)
    this.afterHandOver?.()
  }
  lost(error: Error): void {
    this.lostWith = error
    this.leave?.()
  }
}

const change = (revision: number): ChangeEvent => ({ type: 'ADDED', revision, config: config('dc-1') })

describe('ChangeFanOut', () => {
  it('when changes arrive in one turn, then every receiver gets them together in a later turn, through one subscription', async () => {
    const feed = new Feed()
    const fanOut = new ChangeFanOut(feed)
    const [a, b] = [new Receiver(), new Receiver()]
    fanOut.add(a)
    fanOut.add(b)
    feed.listener?.(change(1))
    feed.listener?.(change(2))
    // Not on the writer's path: nothing is handed over while the store tells of the change.
    expect(a.revisions).toEqual([])
    await waitFor(() => b.revisions.length === 2)
    expect(a.revisions).toEqual([1, 2])
    expect(b.revisions).toEqual([1, 2])
    expect(a.handedOver).toEqual([[1, 2]])
    expect(feed.subscriptions).toBe(1)
  })

  it('when a change arrives alone, then it is handed over alone, and no empty turn follows', async () => {
    const feed = new Feed()
    const fanOut = new ChangeFanOut(feed)
    const receiver = new Receiver()
    fanOut.add(receiver)
    feed.listener?.(change(1))
    await waitFor(() => receiver.revisions.length === 1)
    feed.listener?.(change(2))
    feed.listener?.(change(3))
    await waitFor(() => receiver.revisions.length === 3)
    fanOut.flush()
    expect(receiver.handedOver).toEqual([[1], [2, 3]])
  })

  it('when the last receiver leaves, then the subscription ends, and the next receiver subscribes anew', () => {
    const feed = new Feed()
    const fanOut = new ChangeFanOut(feed)
    const leaveA = fanOut.add(new Receiver())
    const leaveB = fanOut.add(new Receiver())
    leaveA()
    expect(feed.listener).toBeDefined()
    leaveB()
    expect(feed.listener).toBeUndefined()
    fanOut.add(new Receiver())
    expect(feed.subscriptions).toBe(2)
  })

  it('when flushed, then what arrived is handed over at once (a shutdown sends acknowledged changes)', () => {
    const feed = new Feed()
    const fanOut = new ChangeFanOut(feed)
    const receiver = new Receiver()
    fanOut.add(receiver)
    feed.listener?.(change(7))
    fanOut.flush()
    expect(receiver.revisions).toEqual([7])
  })

  it('when the feed is lost, then every receiver is told, and the next receiver subscribes anew', () => {
    const feed = new Feed()
    const fanOut = new ChangeFanOut(feed)
    const [a, b] = [new Receiver(), new Receiver()]
    fanOut.add(a)
    fanOut.add(b)
    const error = new HistoryCompactedError(3, 9)
    feed.onLost?.(error)
    expect(a.lostWith).toBe(error)
    expect(b.lostWith).toBe(error)
    fanOut.add(new Receiver())
    expect(feed.subscriptions).toBe(2)
  })

  describe('with more receivers than a slice', () => {
    // A clock that stands still: only the count of receivers ends a slice.
    const still = () => 0
    const many = (fanOut: ChangeFanOut, count: number) =>
      Array.from({ length: count }, () => {
        const receiver = new Receiver()
        receiver.leave = fanOut.add(receiver)
        return receiver
      })
    const having = (receivers: Receiver[], revision: number) =>
      receivers.filter((receiver) => receiver.revisions.includes(revision)).length

    it('when a change is handed out, then work queued as it starts runs before the last receivers get it', async () => {
      const feed = new Feed()
      const receivers = many(new ChangeFanOut(feed, still), 2 * SLICE + 1)
      let reachedBeforeOtherWork: number | undefined
      ;(receivers[0] as Receiver).afterHandOver = () => {
        setImmediate(() => {
          reachedBeforeOtherWork = having(receivers, 1)
        })
      }
      feed.listener?.(change(1))
      await waitFor(() => having(receivers, 1) === receivers.length)
      // The database's answers, a request: they are not kept waiting for the whole hand-out.
      expect(reachedBeforeOtherWork).toBeGreaterThanOrEqual(1)
      expect(reachedBeforeOtherWork).toBeLessThan(receivers.length)
    })

    it('when at most a slice listens, then every receiver gets the change before other work queued meanwhile', async () => {
      const feed = new Feed()
      const receivers = many(new ChangeFanOut(feed, still), SLICE)
      let reachedBeforeOtherWork: number | undefined
      ;(receivers[0] as Receiver).afterHandOver = () => {
        setImmediate(() => {
          reachedBeforeOtherWork = having(receivers, 1)
        })
      }
      feed.listener?.(change(1))
      await waitFor(() => reachedBeforeOtherWork !== undefined)
      expect(reachedBeforeOtherWork).toBe(SLICE)
    })

    it('when changes arrive while a turn is handed out, then each receiver gets every change once, in order', async () => {
      const feed = new Feed()
      const fanOut = new ChangeFanOut(feed, still)
      const receivers = many(fanOut, 3 * SLICE)
      const first = receivers[0] as Receiver
      const last = receivers.at(-1) as Receiver
      const joining = new Receiver()
      // Arrive while the first turn is still on its way to the last receivers; one joins then.
      first.afterHandOver = () => {
        first.afterHandOver = undefined
        setImmediate(() => {
          expect(last.revisions).toEqual([])
          fanOut.add(joining)
          feed.listener?.(change(2))
          feed.listener?.(change(3))
        })
      }
      feed.listener?.(change(1))
      await waitFor(() => receivers.every((receiver) => receiver.revisions.length === 3))
      feed.listener?.(change(4))
      await waitFor(() => receivers.every((receiver) => receiver.revisions.length === 4))
      for (const receiver of receivers) expect(receiver.revisions).toEqual([1, 2, 3, 4])
      expect(last.handedOver).toEqual([[1], [2, 3], [4]])
      // It hears of what arrived from then on, not of the turn that was being handed out.
      expect(joining.revisions).toEqual([2, 3, 4])
    })

    it('when flushed during a hand-out, then every receiver has every change that arrived', () => {
      const feed = new Feed()
      const fanOut = new ChangeFanOut(feed, still)
      const receivers = many(fanOut, 3 * SLICE)
      const first = receivers[0] as Receiver
      const flushed = new Promise<void>((resolve) => {
        first.afterHandOver = () => {
          first.afterHandOver = undefined
          setImmediate(() => {
            feed.listener?.(change(2))
            fanOut.flush()
            resolve()
          })
        }
      })
      feed.listener?.(change(1))
      return flushed.then(() => {
        for (const receiver of receivers) expect(receiver.revisions).toEqual([1, 2])
      })
    })

    it('when the feed is lost during a hand-out, then every receiver is told and none gets more', async () => {
      const feed = new Feed()
      const fanOut = new ChangeFanOut(feed, still)
      const receivers = many(fanOut, 3 * SLICE)
      const first = receivers[0] as Receiver
      const error = new HistoryCompactedError(3, 9)
      let reached = 0
      first.afterHandOver = () => {
        first.afterHandOver = undefined
        setImmediate(() => {
          reached = having(receivers, 1)
          feed.onLost?.(error)
        })
      }
      feed.listener?.(change(1))
      await waitFor(() => receivers.every((receiver) => receiver.lostWith === error))
      // A sentinel through a new subscription: the old turn would have gone on by then.
      const next = new Receiver()
      fanOut.add(next)
      feed.listener?.(change(2))
      await waitFor(() => next.revisions.length === 1)
      expect(reached).toBeLessThan(receivers.length)
      expect(having(receivers, 1)).toBe(reached)
      expect(having(receivers, 2)).toBe(0)
      expect(next.revisions).toEqual([2])
    })
  })

  it('when a slice takes longer than its time, then other work runs before the rest of the receivers get the change', async () => {
    const feed = new Feed()
    // Each look at the clock finds it a millisecond later: a process that gets little CPU.
    let clock = 0
    const fanOut = new ChangeFanOut(feed, () => clock++)
    const receivers = Array.from({ length: SLICE }, () => {
      const receiver = new Receiver()
      fanOut.add(receiver)
      return receiver
    })
    let reachedBeforeOtherWork: number | undefined
    ;(receivers[0] as Receiver).afterHandOver = () => {
      setImmediate(() => {
        reachedBeforeOtherWork = receivers.filter((receiver) => receiver.revisions.length === 1).length
      })
    }
    feed.listener?.(change(1))
    await waitFor(() => receivers.every((receiver) => receiver.revisions.length === 1))
    expect(reachedBeforeOtherWork).toBeGreaterThanOrEqual(1)
    expect(reachedBeforeOtherWork).toBeLessThan(SLICE)
    expect(SLICE_MS).toBeGreaterThan(0)
    for (const receiver of receivers) expect(receiver.revisions).toEqual([1])
  })
})
