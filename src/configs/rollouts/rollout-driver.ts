/**
 * The loop that carries rollouts forward. All state is in the rollout store: on start it picks
 * up every active rollout where its last saved step left it, so a restart (or another replica
 * taking over) continues the rollout. It polls every `pollMs` (bakes end and gates are evaluated
 * on its ticks) and at once when poked (a rollout created, approved, resumed, aborted).
 *
 * Exactly one driver should act at a time: with a `lease` (PostgreSQL's advisory lock), a driver
 * that does not hold it does nothing. Should two ever act at once (a lease lost mid-step), the
 * store's version check on every save and the If-Match on every config write fence the late one.
 */
import { type RolloutWorld, step } from './rollout-executor.ts'
import { type RolloutStore, RolloutVersionError, type StoredRollout } from './rollout-store.ts'

/** Held by one driver at a time; `hold` is asked before each tick and answers whether it is held. */
export interface DriverLease {
  hold(): Promise<boolean>
  release(): Promise<void>
}

export interface DriverOptions {
  store: RolloutStore
  world: RolloutWorld
  pollMs: number
  lease?: DriverLease
  /** A step that failed (the store unavailable, say): it is tried again on the next tick. */
  onError?: (error: unknown, rollout: string) => void
  /** Told of every step saved, with the rollout as saved. */
  onStep?: (stored: StoredRollout) => void
}

export class RolloutDriver {
  private running = false
  private wake: (() => void) | undefined
  private poked = false
  private loop: Promise<void> | undefined

  constructor(private readonly options: DriverOptions) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Makes the next tick start now (or right after the one running). */
  poke(): void {
    this.poked = true
    this.wake?.()
  }

  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
    await this.options.lease?.release()
  }

  /** One pass over the active rollouts: each is stepped until nothing more is due now. */
  async tick(): Promise<void> {
    if (this.options.lease && !(await this.options.lease.hold())) return
    for (const stored of await this.options.store.active()) {
      if (!this.running && this.loop !== undefined) return
      await this.drive(stored)
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.poked = false
      try {
        await this.tick()
      } catch (error) {
        this.options.onError?.(error, '')
      }
      if (!this.running || this.poked) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
  }

  private async drive(first: StoredRollout): Promise<void> {
    let stored = first
    for (;;) {
      let next: Awaited<ReturnType<typeof step>>
      try {
        next = await step(stored.rollout, this.options.world)
      } catch (error) {
        this.options.onError?.(error, stored.rollout.id)
        return
      }
      if (!next) return
      try {
        stored = await this.options.store.save(next, stored.version)
      } catch (error) {
        // Someone else saved first (an API call, or another driver): the next tick reads it again.
        if (!(error instanceof RolloutVersionError)) this.options.onError?.(error, stored.rollout.id)
        return
      }
      this.options.onStep?.(stored)
    }
  }
}
