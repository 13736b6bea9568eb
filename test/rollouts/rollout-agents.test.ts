/**
 * The issue's "done when" with real consumers: a rollout over 100 configs in 4 waves, gated by a
 * real Prometheus and by the consumers' acknowledgements, while `configctl agent` processes keep
 * 22 of the configs on disk (a folder of 10 configs of wave 1, one config of wave 2, a folder of
 * 10 of wave 3, one of wave 4) and report what they applied. At every wave, and after the end,
 * each agent's file and its report (GET /configs/{dcname}/consumers, asked of every replica)
 * are on the revision the rollout says, and `config_consumers{state}` counts them. A gate failing
 * in wave 3 reverts waves 1-3 exactly and the agents apply the pre-rollout content again; an
 * agent whose --check refuses the change is listed `rejected` with its message and the consumers
 * gate stops the rollout on it; a passing rollout reaches 100% with every agent on it.
 *
 * On SQLite (one service) and on PostgreSQL with two replicas in this process, sharing the
 * driver's clock: agents are split between them, and what one replica was told the other lists.
 * Bakes end when the test moves the clock, after the condition it waits for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { buildConfigctl } from '../cli/support.ts'
import { sharedPostgres } from '../support/postgres.ts'
import { type ScrapingPrometheus, startPrometheus } from '../support/prometheus.ts'
import { waitFor } from '../support/wait.ts'
import { type AgentSpec, type RolloutAgent, startAgent, stopAgents } from './rollout-agents.ts'
import { createConfigs, type Json, rolloutService, testClock } from './rollout-service.ts'

const HOUR = 3_600_000
type Service = Awaited<ReturnType<typeof rolloutService>>

const STORES: { name: string; open: (env: Record<string, string>) => Promise<Service[]> }[] = [
  { name: 'SQLite', open: async (env) => [await rolloutService(env, { listen: true })] },
  {
    name: 'PostgreSQL (two replicas)',
    open: async (env) => {
      const databaseUrl = await (await sharedPostgres()).createDatabase('rollout_agents')
      const clock = testClock()
      // The first takes the driver's lease on its first tick, and makes the tables the second finds.
      const first = await rolloutService({ ...env, DATABASE_URL: databaseUrl }, { listen: true, clock })
      const second = await rolloutService({ ...env, DATABASE_URL: databaseUrl }, { listen: true, clock })
      return [first, second]
    },
  },
]

/** Refuses any config with replicas 2, as a workload's own validation would. */
const STRICT_CHECK = `if grep -q '"replicas": 2' "$CONFIG_FILE"; then echo "refused: 2 replicas exceed this pod's quota" >&2; exit 3; fi`

let prometheus: ScrapingPrometheus

beforeAll(async () => {
  ;[prometheus] = await Promise.all([startPrometheus(), buildConfigctl()])
}, 120_000)
afterAll(async () => {
  await prometheus?.close()
})

/** What an agent must hold of one config: the revision it reported applied, and replicas in its file. */
type Expected = Map<string, { revision: number; replicas: number }>

for (const store of STORES) {
  describe(`a 100-config rollout with real agents on ${store.name}`, () => {
    let replicas: Service[] = []
    let agents: RolloutAgent[] = []
    /** Each config's revision before the rollout (a config's `before` is set only once its wave starts). */
    let initial = new Map<string, number>()

    afterEach(async () => {
      await stopAgents(agents.splice(0))
      for (const replica of replicas.splice(0)) await replica.close()
    })

    /**
     * The workload series a rollout's Prometheus gate reads: one per store and prefix. Prometheus
     * keeps the last value it scraped until it scrapes again, so a series shared with the test
     * on the other store could still hold that test's errors when this one's gate reads it.
     */
    const gateSeries = (prefix: string) => `${STORES.indexOf(store)}-${prefix}`

    /** Asks the last replica: on PostgreSQL not the one the configs and the rollout were posted to. */
    const reader = () => replicas[replicas.length - 1] as Service
    const urlOf = (i: number) => (replicas[i % replicas.length] as Service).url

    /** 100 configs `<prefix>000`..`099` (replicas 1) and the agents; waits for their first reports. */
    async function fleet(prefix: string, extra: Omit<AgentSpec, 'url'>[] = []) {
      replicas = await store.open({ PROMETHEUS_URL: prometheus.url, CONSUMERS_FLUSH_MS: '5' })
      const names = await createConfigs((replicas[0] as Service).send, prefix, 100)
      const specs: Omit<AgentSpec, 'url'>[] = [
        { consumer: 'wave1-pods', prefix: `${prefix}00`, dcnames: names.slice(0, 10) },
        { consumer: 'wave2-pod', dcname: `${prefix}030` },
        { consumer: 'wave3-pods', prefix: `${prefix}06`, dcnames: names.slice(60, 70) },
        { consumer: 'wave4-pod', dcname: `${prefix}090` },
        ...extra,
      ]
      agents = specs.map((spec, i) => startAgent({ ...spec, url: urlOf(i) }))
      initial = new Map()
      for (const dcname of names) {
        const { headers } = await reader().send('GET', `/configs/${dcname}`)
        initial.set(dcname, Number(headers.get('etag')?.replaceAll('"', '')))
      }
      const first: Expected = new Map([...initial].map(([dcname, revision]) => [dcname, { revision, replicas: 1 }]))
      await consumersOn(first, { applied: agents.flatMap((a) => a.dcnames).length, rejected: 0 })
      return names
    }

    /**
     * Waits until every agent's file holds the expected replicas and every replica lists its
     * report `applied` on the expected revision, then reads config_consumers{state} on each.
     */
    async function consumersOn(expected: Expected, states: { applied: number; rejected: number }, skip = '') {
      let wrong = ''
      await waitFor(
        async () => {
          for (const agent of agents) {
            for (const dcname of agent.dcnames) {
              if (agent.consumer === skip) continue
              const want = expected.get(dcname)
              if (!want) throw new Error(`no expectation for ${dcname}`)
              const held = (agent.read(dcname)?.metadata as Json | undefined)?.replicas
              if (held !== want.replicas) {
                wrong = `${agent.consumer}'s file of ${dcname} has replicas ${held}, not ${want.replicas}`
                return false
              }
              for (const replica of replicas) {
                const listed = (await replica.send('GET', `/configs/${dcname}/consumers`)).body as unknown as Json[]
                const report = listed.find((c) => c.consumer === agent.consumer)
                if (report?.status !== 'applied' || report.revision !== want.revision) {
                  wrong = `${agent.consumer} on ${dcname}: ${JSON.stringify(report)}, not applied ${want.revision}`
                  return false
                }
              }
            }
          }
          return true
        },
        30_000,
        () => `the agents' files and reports (${wrong}; agent lines: ${agents.flatMap((a) => a.lines).slice(-5)})`,
      )
      for (const replica of replicas) expect(await gauge(replica)).toEqual({ ...states, expired: 0 })
    }

    async function gauge(replica: Service): Promise<Json> {
      const text = await (await replica.request('/metrics')).text()
      const counts: Json = {}
      for (const [, state, value] of text.matchAll(/^config_consumers\{state="(\w+)"\} (\d+)$/gm))
        counts[state as string] = Number(value)
      return counts
    }

    const start = async (prefix: string, onFailure: 'revert' | 'pause') => {
      const created = await (replicas[0] as Service).send('POST', '/rollouts', {
        change: { merge: { replicas: 2 } },
        target: { prefix },
        waves: [{ percent: 25 }, { percent: 50 }, { percent: 75 }, { percent: 100 }],
        bake: '1h',
        gates: [
          { prometheus: `workload_errors_total{test="${gateSeries(prefix)}"} > 0` },
          { consumers: { applied: 1, within: '2h' } },
        ],
        onFailure,
      })
      expect(created.status).toBe(201)
      prometheus.workload.setErrors(gateSeries(prefix), 0)
      return created.body.id as string
    }

    const until = (id: string, condition: (r: Json) => boolean, what: string) => reader().until(id, condition, what)

    /** Per config: where a rollout that has applied waves up to `wave` leaves it. */
    const onWave = (rollout: Json, wave: number): Expected =>
      new Map(
        (rollout.configs as Json[]).map((c) => {
          const dcname = c.dcname as string
          const changed = (c.wave as number) <= wave
          const revision = changed ? (c.applied as number) : (initial.get(dcname) as number)
          return [dcname, { revision, replicas: changed ? 2 : 1 }]
        }),
      )

    /** Per config: where a revert leaves it (the pre-rollout content, at the revert's revision). */
    const reverted = (rollout: Json): Expected =>
      new Map(
        (rollout.configs as Json[]).map((c) => {
          const dcname = c.dcname as string
          const revision = c.state === 'reverted' ? (c.reverted as number) : (initial.get(dcname) as number)
          return [dcname, { revision, replicas: 1 }]
        }),
      )

    /** Waits for wave `wave` to bake and its consumers to be on it, then ends the bake. */
    async function bakeWave(id: string, wave: number, states: { applied: number; rejected: number }) {
      const rollout = await until(id, (r) => r.status === 'baking' && r.wave === wave, `wave ${wave + 1} baking`)
      await consumersOn(onWave(rollout, wave), states)
      ;(replicas[0] as Service).clock.advance(HOUR)
    }

    /** Every config as it was before the rollout, with the rollout's write and its revert in its history. */
    async function expectRevertedExactly(id: string, names: string[], done: Json) {
      const configs = done.configs as Json[]
      expect(configs.filter((c) => c.state === 'reverted')).toHaveLength(75)
      expect(configs.filter((c) => c.state === 'pending' && c.wave === 3)).toHaveLength(25)
      for (const dcname of names) {
        expect((await reader().send('GET', `/configs/${dcname}`)).body.metadata).toEqual({
          replicas: 1,
          team: 'checkout',
        })
        const history = (await reader().send('GET', `/configs/${dcname}/history`)).body as unknown as Json[]
        const progress = configs.find((c) => c.dcname === dcname) as Json
        if (progress.wave === 3) {
          expect(history).toHaveLength(1)
          continue
        }
        expect(progress.before).toBe(initial.get(dcname))
        // Newest first: the revert (to the pre-rollout revision), the rollout's write, the creation.
        expect(history.map((e) => [e.revision, e.rollout ?? null, e.rollbackOf ?? null])).toEqual([
          [progress.reverted, id, initial.get(dcname)],
          [progress.applied, id, null],
          [initial.get(dcname), null, null],
        ])
      }
    }

    it('when the Prometheus gate fails in wave 3, then waves 1-3 are reverted exactly and the agents apply the old content again', async () => {
      const names = await fleet('shop-')
      const id = await start('shop-', 'revert')
      await bakeWave(id, 0, { applied: 22, rejected: 0 })
      await bakeWave(id, 1, { applied: 22, rejected: 0 })
      const third = await until(id, (r) => r.status === 'baking' && r.wave === 2, 'wave 3 baking')
      await consumersOn(onWave(third, 2), { applied: 22, rejected: 0 })
      prometheus.workload.setErrors(gateSeries('shop-'), 3)
      const done = await until(id, (r) => r.status === 'reverted', 'the revert')

      expect(done.reason).toContain('wave 3: gate prometheus')
      await expectRevertedExactly(id, names, done)
      await consumersOn(reverted(done), { applied: 22, rejected: 0 })
    }, 180_000)

    it('when an agent rejects the change in wave 3, then it is listed rejected with its message, the rollout stops on it, and an abort reverts', async () => {
      const strict = { consumer: 'strict-pod', dcname: 'edge-055', check: STRICT_CHECK }
      const names = await fleet('edge-', [strict])
      const id = await start('edge-', 'pause')
      await bakeWave(id, 0, { applied: 23, rejected: 0 })
      await bakeWave(id, 1, { applied: 23, rejected: 0 })
      const paused = await until(id, (r) => r.status === 'paused', 'the pause on the rejection')
      const written = (paused.configs as Json[]).find((c) => c.dcname === 'edge-055')?.applied
      const message = "refused: 2 replicas exceed this pod's quota"
      expect(paused.reason).toBe(`wave 3: consumer strict-pod of edge-055 rejected revision ${written}: ${message}`)
      // The other agents are on wave 3; the strict one kept its file and said why.
      await consumersOn(onWave(paused, 2), { applied: 22, rejected: 1 }, 'strict-pod')
      for (const replica of replicas) {
        const listed = (await replica.send('GET', '/configs/edge-055/consumers')).body as unknown as Json[]
        expect(listed).toEqual([
          expect.objectContaining({ consumer: 'strict-pod', revision: written, status: 'rejected', message }),
        ])
      }
      const kept = agents.find((a) => a.consumer === 'strict-pod')?.read('edge-055')
      expect(kept?.metadata).toEqual({ replicas: 1, team: 'checkout' })

      expect((await reader().send('POST', `/rollouts/${id}/abort`)).status).toBe(200)
      const done = await until(id, (r) => r.status === 'aborted', 'the abort')
      await expectRevertedExactly(id, names, done)
      // The revert's content passes the strict check: every agent, the strict one too, applies it.
      await consumersOn(reverted(done), { applied: 23, rejected: 0 })
    }, 180_000)

    it('when the gates pass in every wave, then the change reaches 100% and every agent applies it', async () => {
      const names = await fleet('cart-')
      const id = await start('cart-', 'revert')
      for (const wave of [0, 1, 2, 3]) await bakeWave(id, wave, { applied: 22, rejected: 0 })
      const done = await until(id, (r) => r.status === 'completed', 'completion')
      expect((done.configs as Json[]).every((c) => c.state === 'applied')).toBe(true)
      for (const dcname of names)
        expect((await reader().send('GET', `/configs/${dcname}`)).body.metadata).toEqual({
          replicas: 2,
          team: 'checkout',
        })
      await consumersOn(onWave(done, 3), { applied: 22, rejected: 0 })
    }, 180_000)
  })
}
