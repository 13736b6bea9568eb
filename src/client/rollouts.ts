/**
 * Rollouts through the typed client: `new RolloutClient(client).start({...})`, `status(id)`,
 * `pause(id)`, `watch()` (rollout-watch.ts)... Every failure is thrown as the rest of the client
 * throws it (ProblemError, UnreachableError).
 */
import type { RolloutStatus } from '../configs/rollouts/rollout-model.ts'
import type { RolloutRequest } from '../configs/rollouts/rollout-spec.ts'
import type { ConfigClient } from './client.ts'
import { ProblemError, UnreachableError } from './problem-error.ts'
import type { Answer } from './requests.ts'
import {
  type RolloutWatchEvent,
  type RolloutWatchOptions,
  type RolloutWatchRelist,
  watchRollouts,
} from './rollout-watch.ts'

export type { RolloutRequest }

/** A rollout as GET /rollouts lists it. */
export interface RolloutSummary {
  id: string
  status: RolloutStatus
  /** 0-based; -1 before the first wave. */
  wave: number
  waves: number
  createdBy: string
  createdAt: string
  approvedBy: string[]
  bakeUntil?: string
  reason?: string
  counts: { pending: number; applied: number; reverted: number; kept: number }
  change: { merge: Record<string, unknown> } | { metadata: Record<string, unknown> }
  /** As the request said it; `named`: how many dcnames it listed. */
  target: { prefix?: string; filters?: { path: string[]; value: string }[]; named?: number }
}

/** A rollout as GET /rollouts/{id} answers it: with each config's state and the timeline. */
export interface Rollout extends RolloutSummary {
  plan: { waves: string[][]; bakeMs: number; onFailure: 'revert' | 'pause'; [key: string]: unknown }
  configs: { dcname: string; wave: number; state: string; before?: number; applied?: number; reverted?: number }[]
  /** `seq`: the entry's place in the rollout event log (watch after it with `since`). */
  timeline: { seq?: number; time: string; event: string; wave?: number; dcname?: string; detail?: string }[]
}

export class RolloutClient {
  constructor(private readonly client: ConfigClient) {}

  async start(request: RolloutRequest): Promise<Rollout> {
    return this.data(await this.client.api.rollouts.post(request))
  }

  async list(query: { status?: string; limit?: number; before?: string } = {}) {
    const params: Record<string, string> = {}
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params[key] = String(value)
    return this.data<{ items: RolloutSummary[]; more: boolean }>(await this.client.api.rollouts.get({ query: params }))
  }

  async status(id: string): Promise<Rollout> {
    return this.data(await this.client.api.rollouts({ id }).get())
  }

  /** Every rollout event the caller may read, resuming after a lost connection (see rollout-watch.ts). */
  watch(options: RolloutWatchOptions = {}): AsyncGenerator<RolloutWatchEvent | RolloutWatchRelist, void, undefined> {
    return watchRollouts(this.client, options)
  }

  async steer(verb: 'pause' | 'resume' | 'abort' | 'approve', id: string): Promise<Rollout> {
    return this.data(await this.client.api.rollouts({ id })[verb].post())
  }

  private data<T>(answer: Answer & { data: unknown }): T {
    // As ConfigClient's: a fetch that threw has no response; a problem is thrown as one.
    if (answer.response === undefined) throw new UnreachableError(this.client.baseUrl, answer.error?.value)
    if (answer.error) throw ProblemError.from(answer.status, answer.error.value)
    return answer.data as T
  }
}
