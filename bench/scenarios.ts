/**
 * What is measured. Each scenario runs the service and its baseline in alternating rounds:
 * reads against the bare Bun.serve ceiling, writes and the mix against etcd with the same body.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { datasetName, poolRevisions, SEARCH_PATH, WRITE_METADATA, WRITE_POOL } from './dataset.ts'

export const GET_ONE_PATH = `/configs/${datasetName(42)}`
export const LIST_PATH = '/configs?limit=100'
/** The read paths whose bytes the ceiling serves. */
export const CAPTURED_PATHS = [GET_ONE_PATH, LIST_PATH, SEARCH_PATH]
export const CONNECTIONS = [1, 32]

export type SystemName = 'service' | 'ceiling' | 'etcd'

export interface SystemRun {
  name: SystemName
  url: string
  script?: string
  /** Called before every run: the wrk script's arguments. */
  args?: () => Promise<string[]>
  okStatuses?: number[]
}

export interface Scenario {
  id: string
  title: string
  /** The system the service is compared with. */
  baseline: SystemName
  systems: SystemRun[]
}

export interface Urls {
  service: string
  ceiling: string
  etcd: string
  workDir: string
  /** How many configs are stored while the scenarios run. */
  configs: number
}

let runs = 0
/** A prefix no earlier run used, so that POST and etcd "new" always write new keys. */
const runId = (what: string) => `${what}-${process.pid}-${++runs}`

export function scenarios(urls: Urls): Scenario[] {
  const revisionsFile = join(urls.workDir, 'pool-revisions.txt')
  const freshRevisions = async () => {
    writeFileSync(revisionsFile, await poolRevisions(urls.service))
    return revisionsFile
  }
  const read = (id: string, title: string, path: string): Scenario => ({
    id,
    title,
    baseline: 'ceiling',
    systems: [
      { name: 'service', url: urls.service + path },
      { name: 'ceiling', url: urls.ceiling + path },
    ],
  })
  const etcd = (mode: 'new' | 'pool', writePercent: number): SystemRun => ({
    name: 'etcd',
    url: urls.etcd,
    script: 'etcd',
    args: async () => [
      mode,
      mode === 'new' ? runId('etcd') : 'pool',
      String(WRITE_POOL),
      WRITE_METADATA,
      String(writePercent),
    ],
  })
  return [
    read('get-one', 'GET one config', GET_ONE_PATH),
    read('list-100', 'GET list of 100 configs', LIST_PATH),
    read('search', `search, one filter over ${urls.configs.toLocaleString('en-US')}`, SEARCH_PATH),
    {
      id: 'post',
      title: 'POST new config (durable)',
      baseline: 'etcd',
      systems: [
        {
          name: 'service',
          url: urls.service,
          script: 'post',
          args: async () => [runId('post'), WRITE_METADATA],
          okStatuses: [201],
        },
        etcd('new', 100),
      ],
    },
    {
      id: 'put-if-match',
      title: 'PUT with If-Match (durable)',
      baseline: 'etcd',
      systems: [
        {
          name: 'service',
          url: urls.service,
          script: 'put-if-match',
          args: async () => [await freshRevisions(), WRITE_METADATA, '100'],
        },
        etcd('pool', 100),
      ],
    },
    {
      id: 'mix-90-10',
      title: 'mix: 90% GET, 10% PUT',
      baseline: 'etcd',
      systems: [
        {
          name: 'service',
          url: urls.service,
          script: 'put-if-match',
          args: async () => [await freshRevisions(), WRITE_METADATA, '10'],
        },
        etcd('pool', 10),
      ],
    },
  ]
}
