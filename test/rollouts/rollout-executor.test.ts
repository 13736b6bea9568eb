/**
 * The rollout executor step by step (configs/rollouts/rollout-executor.ts), on a real SQLite
 * store, with the steps taken by the test: a human edit can be put exactly between two steps,
 * and a driver's crash between a write and its record. Gates here answer what the test says
 * (the Prometheus gate itself is tested against a real Prometheus in rollout-gates.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { AuthorizedConfigs, type Caller } from '../../src/configs/authorized-configs.ts'
import { AuthorizedRollouts } from '../../src/configs/rollouts/authorized-rollouts.ts'
import { callerOf, type RolloutWorld, step } from '../../src/configs/rollouts/rollout-executor.ts'
import type { GateVerdict } from '../../src/configs/rollouts/rollout-gates.ts'
import type { Rollout } from '../../src/configs/rollouts/rollout-model.ts'
import type { RolloutRequest } from '../../src/configs/rollouts/rollout-spec.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteRolloutStore } from '../../src/store/sqlite/sqlite-rollouts.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

const alice: Caller = { principal: { actor: 'alice', role: 'writer' }, requestId: 'req-alice' }
const human: Caller = { principal: { actor: 'bob', role: 'writer' }, requestId: 'req-bob' }

describe('rollout executor', () => {
  let dir: string
  let store: SqliteConfigStore
  let rollouts: SqliteRolloutStore
  let configs: AuthorizedConfigs
  let facade: AuthorizedRollouts
  let world: RolloutWorld
  let verdict: GateVerdict
  let now: number

  beforeEach(async () => {
    dir = tempDir('rollout-executor-')
    store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
    rollouts = new SqliteRolloutStore(openBunSqlite, join(dir, 'configs.db'))
    configs = new AuthorizedConfigs(store)
    now = 1_000_000
    verdict = { pass: true }
    world = { configs, gates: { evaluate: async () => verdict }, now: () => now }
    facade = new AuthorizedRollouts({
      store: rollouts,
      configs,
      gates: { prometheus: true, consumers: false },
      now: () => now,
    })
    for (const dcname of ['dc-a', 'dc-b', 'dc-c', 'dc-d']) {
      await configs.create(alice, { dcname, metadata: { replicas: 1 } })
    }
  })

  afterEach(async () => {
    await rollouts.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const request = (extra: Partial<RolloutRequest> = {}): RolloutRequest => ({
    change: { merge: { replicas: 3 } },
    target: { prefix: 'dc-' },
    waves: [{ dcnames: ['dc-a', 'dc-b'] }, { percent: 100 }],
    bake: '10m',
    gates: [{ prometheus: 'errors > 0' }],
    ...extra,
  })

  /** Takes one step and saves it; the rollout after it (undefined: nothing was due). */
  const stepOnce = async (id: string): Promise<Rollout | undefined> => {
    const stored = await rollouts.get(id)
    const next = stored && (await step(stored.rollout, world))
    if (!stored || !next) return undefined
    return (await rollouts.save(next, stored.version)).rollout
  }
  /** Steps until nothing more is due now. */
  const settle = async (id: string): Promise<Rollout> => {
    while (await stepOnce(id)) {}
    return (await rollouts.get(id))?.rollout as Rollout
  }
  const replicas = async (dcname: string) => (await store.get(dcname))?.config.metadata.replicas

  it('when someone edits a config between the start of its wave and its write, then the rollout pauses naming it', async () => {
    const { rollout } = await facade.create(alice, request())
    expect(rollout.status).toBe('applying') // no approval needed: wave 1 starts with the rollout
    const recorded = await stepOnce(rollout.id) // the revisions the wave starts from
    expect(recorded?.configs.filter((c) => c.before !== undefined).map((c) => c.dcname)).toEqual(['dc-a', 'dc-b'])
    await configs.update(human, 'dc-b', (c) => ({ ...c, metadata: { ...c.metadata, owner: 'bob' } }), {})
    const paused = await stepOnce(rollout.id)
    expect(paused).toMatchObject({ status: 'paused', pausedFrom: 'applying', conflict: 'dc-b' })
    expect(paused?.reason).toContain('config dc-b was changed by someone else')
    expect(await replicas('dc-a')).toBe(3)
    expect((await store.get('dc-b'))?.config.metadata).toEqual({ replicas: 1, owner: 'bob' })
  })

  it('when a rollout paused by an edit is resumed, then the edited config is changed from its new revision', async () => {
    const { rollout } = await facade.create(alice, request())
    await stepOnce(rollout.id)
    await configs.update(human, 'dc-b', (c) => ({ ...c, metadata: { ...c.metadata, owner: 'bob' } }), {})
    await stepOnce(rollout.id)
    await facade.resume(alice, rollout.id)
    const baking = await settle(rollout.id)
    expect(baking.status).toBe('baking')
    expect((await store.get('dc-b'))?.config.metadata).toEqual({ replicas: 3, owner: 'bob' })
  })

  it('when the driver stopped after a write but before recording it, then the next step records it without writing again', async () => {
    const { rollout } = await facade.create(alice, request())
    const recorded = (await stepOnce(rollout.id)) as Rollout
    const before = recorded.configs.find((c) => c.dcname === 'dc-a')?.before as number
    // The write the crashed driver made: as the creator, for the rollout, from the wave's revision.
    const change = (c: { dcname: string; metadata: Record<string, unknown> }) => ({ ...c, metadata: { replicas: 3 } })
    const written = await configs.update(callerOf(recorded), 'dc-a', change, { ifMatch: before })
    const baking = await settle(rollout.id)
    expect(baking.configs.find((c) => c.dcname === 'dc-a')).toMatchObject({
      state: 'applied',
      applied: written.revision,
    })
    expect((await store.history('dc-a', { limit: 10 })).entries).toHaveLength(2)
  })

  it('when a gate fails and onFailure is pause, then the rollout pauses and changes nothing back', async () => {
    const { rollout } = await facade.create(alice, request({ onFailure: 'pause' }))
    expect((await settle(rollout.id)).status).toBe('baking')
    verdict = { pass: false, reason: 'errors are up' }
    const paused = await settle(rollout.id)
    expect(paused).toMatchObject({ status: 'paused', pausedFrom: 'baking', reason: 'wave 1: errors are up' })
    expect(await replicas('dc-a')).toBe(3)
  })

  it('when the gate cannot be evaluated, then the rollout pauses even with onFailure revert', async () => {
    const { rollout } = await facade.create(alice, request())
    await settle(rollout.id)
    verdict = { pass: false, unavailable: true, reason: 'Prometheus could not be asked' }
    expect((await settle(rollout.id)).status).toBe('paused')
    expect(await replicas('dc-a')).toBe(3)
  })

  it('when a config changed by the rollout is edited before the revert, then the revert pauses naming it and resume keeps it', async () => {
    const { rollout } = await facade.create(alice, request())
    await settle(rollout.id)
    await configs.update(human, 'dc-a', (c) => ({ ...c, metadata: { replicas: 5 } }), {})
    await facade.abort(human, rollout.id)
    const paused = await settle(rollout.id)
    expect(paused).toMatchObject({ status: 'paused', pausedFrom: 'reverting', conflict: 'dc-a' })
    await facade.resume(alice, rollout.id)
    const aborted = await settle(rollout.id)
    expect(aborted.status).toBe('aborted')
    expect(aborted.configs.map((c) => [c.dcname, c.state])).toEqual([
      ['dc-a', 'kept'],
      ['dc-b', 'reverted'],
      ['dc-c', 'pending'],
      ['dc-d', 'pending'],
    ])
    expect(await replicas('dc-a')).toBe(5)
    expect(await replicas('dc-b')).toBe(1)
  })

  it('when a bake ends with its gates passing, then the next wave starts, and the last one completes the rollout', async () => {
    const { rollout } = await facade.create(alice, request())
    expect((await settle(rollout.id)).wave).toBe(0)
    now += 10 * 60_000
    const second = await settle(rollout.id)
    expect(second).toMatchObject({ status: 'baking', wave: 1 })
    now += 10 * 60_000
    expect((await settle(rollout.id)).status).toBe('completed')
    for (const dcname of ['dc-a', 'dc-b', 'dc-c', 'dc-d']) expect(await replicas(dcname)).toBe(3)
  })
})
