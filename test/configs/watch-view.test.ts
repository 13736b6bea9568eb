import { describe, expect, it } from 'bun:test'
import type { ChangeEvent, ChangeType, Filter } from '../../src/configs/config-store.ts'
import { WatchView } from '../../src/configs/watch-view.ts'

const team: Filter[] = [{ path: ['metadata', 'team'], value: 'pay' }]
const event = (type: ChangeType, dcname: string, teamName: string, revision: number): ChangeEvent => ({
  type,
  revision,
  config: { dcname, metadata: { team: teamName } },
})
const seen = (view: WatchView, events: ChangeEvent[]) =>
  events.map((e) => view.see(e)).map((e) => (e ? `${e.type} ${e.config.dcname} ${e.revision}` : '-'))

describe('WatchView', () => {
  it('when there are no filters, then every event passes unchanged', () => {
    const view = WatchView.unfiltered()
    const e = event('MODIFIED', 'a', 'x', 3)
    expect(view.see(e)).toBe(e)
  })

  it('when configs enter and leave the view after the snapshot, then they arrive as ADDED and DELETED', () => {
    const view = new WatchView(team, new Set(['held']), 10)
    expect(
      seen(view, [
        event('MODIFIED', 'held', 'pay', 11), // already in the view
        event('MODIFIED', 'other', 'pay', 12), // enters
        event('MODIFIED', 'held', 'ops', 13), // leaves
        event('MODIFIED', 'held', 'ops', 14), // still outside
        event('ADDED', 'new', 'ops', 15), // never inside
        event('DELETED', 'new', 'ops', 16),
        event('DELETED', 'other', 'pay', 17), // deleted while inside
      ]),
    ).toEqual(['MODIFIED held 11', 'ADDED other 12', 'DELETED held 13', '-', '-', '-', 'DELETED other 17'])
  })

  it('when a replayed event predates the snapshot, then a non-matching MODIFIED is sent as DELETED in case the client held it', () => {
    const view = new WatchView(team, new Set(), 10)
    expect(
      seen(view, [
        event('MODIFIED', 'gone', 'ops', 5), // may have been in the client's list
        event('ADDED', 'never', 'ops', 6), // cannot have been
        event('MODIFIED', 'back', 'pay', 7), // type kept: the client may or may not hold it
        event('MODIFIED', 'back', 'pay', 11), // after the snapshot, and now known to be held
      ]),
    ).toEqual(['DELETED gone 5', '-', 'MODIFIED back 7', 'MODIFIED back 11'])
  })

  it('when a config is deleted and created again inside the view, then it arrives as DELETED then ADDED', () => {
    const view = new WatchView(team, new Set(['a']), 0)
    expect(seen(view, [event('DELETED', 'a', 'pay', 1), event('ADDED', 'a', 'pay', 2)])).toEqual([
      'DELETED a 1',
      'ADDED a 2',
    ])
  })
})
