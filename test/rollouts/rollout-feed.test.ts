/**
 * The rollout feed on a real SQLite rollout store, through the WatchHub as a watch reads it:
 * steps saved to the store arrive as events, once each and in order, a watch from `since`
 * replays the log first, one from before the kept log is a 410, and a watcher that reads
 * nothing is ended at its bound (WATCH_BUFFER_EVENTS) with a final ERROR, not left to grow.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { RolloutFeed } from '../../src/configs/rollouts/rollout-feed.ts'
import { type Rollout, withEvent } from '../../src/configs/rollouts/rollout-model.ts'
import { WatchHub } from '../../src/http/watch/watch-hub.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteRolloutStore } from '../../src/store/sqlite/sqlite-rollouts.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'
import { SseStream } from '../support/sse.ts'

function rollout(id: string): Rollout {
  return {
    id,
    createdBy: { actor: 'alice', role: 'writer' },
    createdAt: 0,
    plan: {
      change: { merge: {} },
      target: {},
      waves: [['a']],
      bakeMs: 1,
      gates: [],
      approvals: 0,
      onFailure: 'revert',
    },
    status: 'applying',
    wave: 0,
    approvedBy: [],
    configs: [{ dcname: 'a', wave: 0, state: 'pending' }],
    timeline: [{ time: 0, event: 'created' }],
  }
}

describe('the rollout feed through a watch', () => {
  let dir: string
  let configs: SqliteConfigStore
  let rollouts: SqliteRolloutStore
  let feed: RolloutFeed

  beforeEach(() => {
    dir = tempDir('rollout-feed-')
    configs = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
    rollouts = new SqliteRolloutStore(openBunSqlite, join(dir, 'configs.db'), 10)
    feed = new RolloutFeed(rollouts, 5)
  })
  afterEach(async () => {
    await rollouts.close()
    await configs.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const watchOf = (hub: WatchHub, since?: number) =>
    hub.openRollouts(
      {
        subscribe: (listener, onLost) => feed.subscribe(listener, onLost),
        newest: () => rollouts.newestEvent(),
        eventsAfter: (after, limit) => rollouts.eventsAfter(after, limit),
        view: { see: (event) => event },
      },
      since,
    )

  it('when steps are saved, then each new timeline entry arrives once, in order, the earlier ones not', async () => {
    const hub = new WatchHub(configs, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
    const before = await rollouts.create(rollout('ro-old'))
    const stream = new SseStream(await watchOf(hub))
    try {
      const started = withEvent(before.rollout, { time: 1, event: 'wave-started', wave: 0 })
      const saved = await rollouts.save(started, before.version)
      await rollouts.save(withEvent(saved.rollout, { time: 2, event: 'wave-applied', wave: 0 }), saved.version)
      await rollouts.create(rollout('ro-new'))
      const names: string[] = []
      while (names.length < 3) {
        const message = await stream.next(10_000)
        const data = JSON.parse(message?.data ?? '{}')
        names.push(`${data.id} ${message?.event}`)
      }
      // The two saves of ro-old may be read in one poll or two: either way each entry once.
      expect(names).toEqual(['ro-old wave-started', 'ro-old wave-applied', 'ro-new created'])
    } finally {
      stream.close()
      await hub.closeAll()
    }
  })

  it('when its client reads nothing and more events come than its bound, then the watch ends with an ERROR', async () => {
    const hub = new WatchHub(configs, { heartbeatMs: 60_000, bufferEvents: 2, bufferBytes: 1 << 20 })
    const stored = await rollouts.create(rollout('ro-burst'))
    const response = await watchOf(hub)
    expect(hub.connected()).toBe(1)
    let burst = stored.rollout
    for (let i = 1; i <= 5; i++) burst = withEvent(burst, { time: i, event: 'wave-baked', wave: i })
    await rollouts.save(burst, stored.version)
    const text = await response.text()
    const error = text.split('\n\n').find((frame) => frame.startsWith('event: ERROR'))
    expect(error).toContain('watch-fell-behind')
    // Its ids are the log's: the client is told to resume after the last one it got.
    expect(error).toMatch(/watch again with since=\d+/)
    expect(text.match(/^event: wave-baked$/gm)?.length ?? 0).toBeLessThan(5)
    expect(hub.connected()).toBe(0)
    await hub.closeAll()
  })

  it('when a watch gives since, then the events logged after it come first, then the live ones', async () => {
    const hub = new WatchHub(configs, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
    const created = await rollouts.create(rollout('ro-resume'))
    const since = created.rollout.timeline.at(-1)?.seq as number
    const started = await rollouts.save(withEvent(created.rollout, { time: 1, event: 'wave-started', wave: 0 }), 1)
    await rollouts.save(withEvent(started.rollout, { time: 2, event: 'wave-applied', wave: 0 }), started.version)
    const stream = new SseStream(await watchOf(hub, since))
    try {
      await rollouts.create(rollout('ro-live'))
      const seen: string[] = []
      while (seen.length < 3) {
        const message = await stream.next(10_000)
        seen.push(`${message?.id} ${JSON.parse(message?.data ?? '{}').id} ${message?.event}`)
      }
      expect(seen).toEqual([
        `${since + 1} ro-resume wave-started`,
        `${since + 2} ro-resume wave-applied`,
        `${since + 3} ro-live created`,
      ])
    } finally {
      stream.close()
      await hub.closeAll()
    }
  })

  it('when since is older than the events the log keeps, then the watch is a 410 before any byte', async () => {
    const hub = new WatchHub(configs, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
    let stored = await rollouts.create(rollout('ro-long'))
    // The log keeps 10 (as set above): 12 entries leave the first two behind.
    for (let i = 1; i < 12; i++)
      stored = await rollouts.save(withEvent(stored.rollout, { time: i, event: 'wave-baked' }), stored.version)
    const newest = await rollouts.newestEvent()
    const compacted = await watchOf(hub, newest - 11).catch((error: Error) => error)
    expect((compacted as Error).name).toBe('HistoryCompactedError')
    expect(hub.connected()).toBe(0)
    // From the oldest kept on, it still replays.
    const stream = new SseStream(await watchOf(hub, newest - 10))
    try {
      expect((await stream.next(10_000))?.id).toBe(String(newest - 9))
    } finally {
      stream.close()
      await hub.closeAll()
    }
  })
})
