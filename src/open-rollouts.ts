/**
 * The rollouts of the store DATABASE_URL names, and their driver: on SQLite the one process
 * drives them; on PostgreSQL, whichever replica holds the advisory-lock lease.
 */
import type { AuthorizedConfigs } from './configs/authorized-configs.ts'
import type { ConsumerSummaries } from './configs/rollouts/consumers-gate.ts'
import { type DriverLease, RolloutDriver } from './configs/rollouts/rollout-driver.ts'
import type { RolloutWrite } from './configs/rollouts/rollout-executor.ts'
import { RolloutFeed } from './configs/rollouts/rollout-feed.ts'
import type { RolloutStore } from './configs/rollouts/rollout-store.ts'
import { rolloutGates } from './observability/rollout-gates.ts'
import type { StoreRuntime } from './open-store.ts'
import type { Settings } from './settings.ts'
import { SqliteRolloutStore } from './store/sqlite/sqlite-rollouts.ts'

export interface RolloutOptions {
  /** The driver's clock (tests move it to end bakes). */
  now?: () => number
  /** Overrides ROLLOUT_POLL_MS. */
  pollMs?: number
}

export interface RolloutService {
  store: RolloutStore
  driver: RolloutDriver
  /** What the app's rollout routes take (see AppDeps.rollouts). */
  deps: {
    store: RolloutStore
    gates: { prometheus: boolean; consumers: boolean }
    now: () => number
    onChange: () => void
    feed: RolloutFeed
  }
  close(): Promise<void>
}

export async function openRollouts(
  settings: Settings,
  runtime: StoreRuntime,
  configs: AuthorizedConfigs,
  events: { onWrite: (write: RolloutWrite) => void; onError: (error: unknown, rollout: string) => void },
  consumers: ConsumerSummaries | undefined,
  options: RolloutOptions = {},
): Promise<RolloutService> {
  const target = settings.database
  let store: RolloutStore
  let lease: DriverLease | undefined
  if (target.kind === 'sqlite') {
    store = new SqliteRolloutStore(runtime.openSqlite, target.path, settings.rolloutEventsKept)
  } else {
    // Loaded only when used, as the PostgreSQL store is.
    const { PostgresRolloutStore } = await import('./store/postgres/postgres-rollouts.ts')
    const { PostgresRolloutLease } = await import('./store/postgres/postgres-rollout-lease.ts')
    store = new PostgresRolloutStore({ url: target.url, ...settings.postgres }, settings.rolloutEventsKept)
    lease = new PostgresRolloutLease({ url: target.url, ...settings.postgres })
  }
  const now = options.now ?? Date.now
  const gates = rolloutGates({ prometheusUrl: settings.prometheusUrl, consumers, now })
  const driver = new RolloutDriver({
    store,
    world: { configs, gates, now, onWrite: events.onWrite },
    pollMs: options.pollMs ?? settings.rolloutPollMs,
    lease,
    onError: events.onError,
  })
  return {
    store,
    driver,
    deps: {
      store,
      gates: { prometheus: settings.prometheusUrl !== undefined, consumers: consumers !== undefined },
      now,
      onChange: () => driver.poke(),
      // Watches read the store at the driver's pace: an event shows within one poll of its step.
      feed: new RolloutFeed(store, options.pollMs ?? settings.rolloutPollMs),
    },
    async close() {
      await driver.stop()
      await store.close()
    },
  }
}
