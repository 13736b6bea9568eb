import { describe, expect, it } from 'bun:test'
import type { ChangeEvent, ChangeType, Filter } from '../../src/configs/config-store.ts'
import { WatchView } from '../../src/configs/watch-view.ts'

const team: Filter[] = [{ path: ['metadata', 'team'], value: 'pay' }]
const event = (type: ChangeType, dcname: string, teamName: string, revision: number): ChangeEvent => ({
  type,
  revision,
  config: { dcname, metadata: { team: teamName } },
})
/** A MODIFIED event as the history gives it: with the state before the write. */
const modified = (dcname: string, before: string, after: string, revision: number): ChangeEvent => ({
  ...event('MODIFIED', dcname, after, revision),
  previous: { dcname, metadata: { team: before } },
})
const seen = (view: WatchView, events: ChangeEvent[]) =>
  events.map((e) => view.see(e)).map((e) => (e ? `${e.type} ${e.config.dcname} ${e.revision}` : '-'))

describe('WatchView', () => {
  it('when there are no filters, then every event passes unchanged', () => {
    const view = WatchView.unfiltered()
    const e = event('MODIFIED', 'a', 'x', 3)
    expect(view.see(e)).toBe(e)
  })

  it('when live events come, then entering the view is ADDED, leaving it DELETED, and configs never in it are not mentioned', () => {
    const view = new WatchView(team, new Set(['held']))
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

  it('when history is replayed with previous states, then each event is what a watcher connected back then was sent', () => {
    // The matching set was read after these events: it says nothing of the view before them.
    const view = new WatchView(team, new Set(['entered', 'stayed']))
    expect(
      seen(view, [
        modified('entered', 'ops', 'pay', 5), // started matching: live it was ADDED
        modified('left', 'pay', 'ops', 6), // stopped matching
        modified('never', 'ops', 'dev', 7), // never matched: not mentioned
        event('DELETED', 'never', 'dev', 8),
        modified('stayed', 'pay', 'pay', 9), // matched before and after
        event('ADDED', 'outside', 'ops', 10),
      ]),
    ).toEqual(['ADDED entered 5', 'DELETED left 6', '-', '-', 'MODIFIED stayed 9', '-'])
  })

  it('when the replay moved configs in or out of the view, then live events after it follow the replayed view', () => {
    // Read when the watch started, after the replayed writes: 'joined' and 'quit' had moved since.
    const view = new WatchView(team, new Set(['joined']))
    expect(
      seen(view, [
        modified('quit', 'pay', 'ops', 5),
        modified('joined', 'ops', 'pay', 6),
        event('MODIFIED', 'quit', 'dev', 11), // live, still outside
        event('MODIFIED', 'joined', 'ops', 12), // live, leaves
      ]),
    ).toEqual(['DELETED quit 5', 'ADDED joined 6', '-', 'DELETED joined 12'])
  })

  it('when a config is deleted and created again inside the view, then it arrives as DELETED then ADDED', () => {
    const view = new WatchView(team, new Set(['a']))
    expect(seen(view, [event('DELETED', 'a', 'pay', 1), event('ADDED', 'a', 'pay', 2)])).toEqual([
      'DELETED a 1',
      'ADDED a 2',
    ])
  })

  it('when the watcher is limited to prefixes, then configs outside never appear and inside the rules are unchanged', () => {
    const scoped = WatchView.unfiltered(['pay-'])
    expect(
      seen(scoped, [
        event('ADDED', 'pay-1', 'x', 1),
        event('ADDED', 'ops-1', 'x', 2),
        event('MODIFIED', 'pay-1', 'y', 3),
        event('DELETED', 'ops-1', 'x', 4),
        event('DELETED', 'pay-1', 'y', 5),
        event('ADDED', 'pay.1', 'x', 6),
      ]),
    ).toEqual(['ADDED pay-1 1', '-', 'MODIFIED pay-1 3', '-', 'DELETED pay-1 5', '-'])
    const filtered = new WatchView(team, new Set(['pay-held']), ['pay-'])
    expect(
      seen(filtered, [
        event('MODIFIED', 'pay-held', 'ops', 7), // leaves the filter
        event('MODIFIED', 'ops-held', 'pay', 8), // matches the filter, outside the prefixes
        modified('pay-2', 'ops', 'pay', 9), // enters
        event('DELETED', 'ops-held', 'pay', 10),
      ]),
    ).toEqual(['DELETED pay-held 7', '-', 'ADDED pay-2 9', '-'])
    expect(WatchView.unfiltered([]).see(event('ADDED', 'pay-1', 'x', 11))).toBeUndefined()
  })
})
