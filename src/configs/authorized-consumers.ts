/**
 * Consumer reports as one caller may make and see them, as AuthorizedConfigs is for configs:
 * listing a config's consumers asks `get` on it (who may read a config may see who applied it);
 * reporting asks `report` (any role, never an anonymous caller of a protected service), on a
 * config that exists, about a revision it reached.
 */
import { authorize } from './access.ts'
import type { Caller } from './authorized-configs.ts'
import type { ConfigStore } from './config-store.ts'
import { NotFoundError } from './config-store.ts'
import type { ConsumerReports } from './consumer-reports.ts'
import { type ConsumerState, type ConsumerStatus, ReportedRevisionError } from './consumers.ts'

export interface ReportInput {
  revision: number
  state: ConsumerState
  message?: string
}

export class AuthorizedConsumers {
  constructor(
    private readonly reports: ConsumerReports,
    private readonly configs: Pick<ConfigStore, 'get'>,
  ) {}

  async list(caller: Caller, dcname: string): Promise<ConsumerStatus[]> {
    authorize(caller.principal, 'get', dcname)
    await this.existing(dcname)
    return this.reports.list(dcname)
  }

  async report(caller: Caller, dcname: string, consumer: string, input: ReportInput): Promise<ConsumerStatus> {
    authorize(caller.principal, 'report', dcname)
    const current = await this.existing(dcname)
    if (input.revision > current) throw new ReportedRevisionError(dcname, input.revision, current)
    const { revision, state, message = '' } = input
    return this.reports.report({ dcname, consumer, revision, state, message })
  }

  /** The config's revision now; NotFoundError when it does not exist. */
  private async existing(dcname: string): Promise<number> {
    const stored = await this.configs.get(dcname)
    if (!stored) throw new NotFoundError(dcname)
    return stored.revision
  }
}
