/**
 * Consumer reports through the typed client: `client.consumers.report('dc-1', 'web-1', {...})`
 * and `client.consumers.list('dc-1')`. Failures are thrown as the rest of the client throws them.
 */
import type { ConsumerState, ConsumerStatusState } from '../configs/consumers.ts'
import type { Answer, ConfigClientCore } from './requests.ts'

export interface ConsumerReportBody {
  revision: number
  state: ConsumerState
  /** Why it was rejected, or a note (at most 1024 characters). */
  message?: string
}

/** One consumer's report as the service lists it. */
export interface Consumer {
  consumer: string
  revision: number
  state: ConsumerState
  /** What it counts as now: its state, or `expired`. */
  status: ConsumerStatusState
  message: string
  /** RFC 3339. */
  reportedAt: string
  expiresAt: string
}

export class ConsumerClient {
  constructor(
    private readonly client: ConfigClientCore,
    private readonly unwrap: (answer: Answer) => Response,
  ) {}

  /** Every consumer's report on a config, by consumer name. */
  async list(dcname: string): Promise<Consumer[]> {
    const answer = await this.client.api.configs({ dcname }).consumers.get()
    this.unwrap(answer)
    return answer.data as Consumer[]
  }

  /** Reports (or repeats, as a heartbeat) what `consumer` did with a revision of `dcname`. */
  async report(dcname: string, consumer: string, body: ConsumerReportBody): Promise<Consumer> {
    const answer = await this.client.api.configs({ dcname }).consumers({ consumer }).put(body)
    this.unwrap(answer)
    return answer.data as Consumer
  }
}
