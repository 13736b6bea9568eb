/**
 * The consumer API's handlers, registered with their contracts (consumer-contracts.ts); they
 * reach reports only through AuthorizedConsumers, which authorizes again.
 */
import { Elysia } from 'elysia'
import type { AuthorizedConsumers } from '../../configs/authorized-consumers.ts'
import type { ConsumerStatus } from '../../configs/consumers.ts'
import type { AccessGate } from '../auth.ts'
import { routeHook } from '../contract.ts'
import { readJsonBody } from '../json-body.ts'
import type { RequestContext } from '../request-context.ts'
import { listConsumers, MAX_REPORT_BYTES, reportConsumer } from './consumer-contracts.ts'

export interface ConsumerRoutesDeps {
  consumers: AuthorizedConsumers
  /** The app's access gate (the instance the app uses first, so it runs once). */
  gate: AccessGate
  maxBodyBytes: number
}

export function consumerRoutes({ consumers, gate, maxBodyBytes }: ConsumerRoutesDeps) {
  const limit = Math.min(maxBodyBytes, MAX_REPORT_BYTES)
  /** Read after the gate decided, as config bodies are (see routes.ts). */
  const readBody = async (context: { requestContext: RequestContext; request: Request; body: unknown }) => {
    context.body = await readJsonBody(context.request, limit)
  }
  return new Elysia({ name: 'consumers' })
    .use(gate)
    .get(
      listConsumers.path,
      async ({ params, requestContext }) => (await consumers.list(requestContext, params.dcname)).map(resourceOf),
      routeHook(listConsumers),
    )
    .put(
      reportConsumer.path,
      async ({ params, body, requestContext }) =>
        resourceOf(await consumers.report(requestContext, params.dcname, params.consumer, body)),
      { ...routeHook(reportConsumer), transform: readBody },
    )
}

function resourceOf(status: ConsumerStatus) {
  return {
    consumer: status.consumer,
    revision: status.revision,
    state: status.state,
    status: status.status,
    message: status.message,
    reportedAt: new Date(status.reportedAt).toISOString(),
    expiresAt: new Date(status.expiresAt).toISOString(),
  }
}
