import { describe, expect, it } from 'bun:test'
import type { ChangeEvent } from '../../src/configs/config-store.ts'
import { EarlyEvents } from '../../src/configs/watch/early-events.ts'
import { WatchPosition } from '../../src/configs/watch/watch-position.ts'
import { WatchView } from '../../src/configs/watch-view.ts'
import { config } from '../support/configs.ts'

const event = (revision: number, dcname = 'dc-1'): ChangeEvent => ({ type: 'ADDED', revision, config: config(dcname) })

describe('WatchPosition', () => {
  it('when an event at or below the position arrives, then it is dropped as a duplicate', () => {
    const position = new WatchPosition(WatchView.unfiltered(), 5)
    expect(position.take(event(5))).toBeUndefined()
    expect(position.take(event(6))?.revision).toBe(6)
    expect(position.take(event(6))).toBeUndefined()
    expect(position.revision).toBe(6)
  })

  it('when an event is outside the view, then it moves the position but is not sent', () => {
    const position = new WatchPosition(WatchView.unfiltered(['team-a-']), 0)
    expect(position.take(event(1, 'team-b-1'))).toBeUndefined()
    expect(position.take(event(2, 'team-a-1'))?.revision).toBe(2)
    expect(position.revision).toBe(2)
  })
})

describe('EarlyEvents', () => {
  it('when a page found nothing more and nothing was let go meanwhile, then the replay caught up, keeping only later events', () => {
    const early = new EarlyEvents(() => 10)
    const begun = early.readBegins()
    early.add(event(3))
    early.add(event(4))
    early.pageRead(3, false, begun)
    expect(early.caughtUp).toBe(true)
    expect(early.takeAll().map((e) => e.revision)).toEqual([4])
  })

  it('when events were let go during the read, or the history holds more, then the replay reads on', () => {
    const early = new EarlyEvents(() => 10)
    const begun = early.readBegins()
    early.add(event(3))
    early.letGo()
    early.pageRead(2, false, begun)
    expect(early.caughtUp).toBe(false)
    early.pageRead(2, true, early.readBegins())
    expect(early.caughtUp).toBe(false)
  })

  it('when events are held, then their bytes are what the measure says', () => {
    const early = new EarlyEvents((e) => e.revision * 100)
    early.add(event(1))
    early.add(event(2))
    expect(early.bytes).toBe(300)
    early.keepAfter(1)
    expect(early.bytes).toBe(200)
  })
})
