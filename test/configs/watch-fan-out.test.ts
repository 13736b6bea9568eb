/**
 * The fan-out of the store's changes to the config watchers: one subscription for all, changes
 * handed over in the turn after the store told of them (those of one turn together), and every
 * watcher dropped when the feed is lost. The feed is the port's `subscribe` alone, told of changes by the test.
 */
import { describe, expect, it } from 'bun:test'
import { type ChangeEvent, type ChangeListener, HistoryCompactedError } from '../../src/configs/config-store.ts'
import { ChangeFanOut, type ChangeReceiver } from '../../src/configs/watch/change-fan-out.ts'
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
  /** The revisions of each hand-over. */
  handedOver: number[][] = []
  lostWith: Error | undefined
  receive(event: ChangeEvent): void {
    this.receiveAll([event])
  }
  receiveAll(events: readonly ChangeEvent[]): void {
    const revisions = events.map((event) => event.revision)
    this.handedOver.push(revisions)
    this.revisions.push(...revisions)
  }
  lost(error: Error): void {
    this.lostWith = error
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
})
