/** The typed client of config-service: see client.ts, and the README's "configctl" section. */
export {
  type ClientOptions,
  type Config,
  ConfigClient,
  createClient,
  type HistoryEntry,
  type HistoryPage,
  type ReplaceOptions,
  type StoredConfig,
  type WriteOptions,
} from './client.ts'
export { type Consumer, ConsumerClient, type ConsumerReportBody } from './consumers.ts'
export { type FieldError, type Problem, ProblemError, UnreachableError } from './problem-error.ts'
export type { Filters, Page, Paging } from './requests.ts'
export type { RolloutWatchEvent, RolloutWatchOptions, RolloutWatchRelist } from './rollout-watch.ts'
export { type Rollout, RolloutClient, type RolloutRequest, type RolloutSummary } from './rollouts.ts'
export {
  type Schema,
  SchemaClient,
  type SchemaHistoryEntry,
  type SchemaPutOptions,
  type SchemaWatchEvent,
} from './schemas.ts'
export type { WatchEvent, WatchItem, WatchOptions, WatchRelist } from './watch.ts'
