/** The configs the benchmark stores and sends: realistic size, a filterable field, a write pool. */
export const TEAMS = 100
/** The search scenario's filter matches one team: 1% of the stored configs. */
export const SEARCH_PATH = '/search?metadata.team=team-42'
export const WRITE_POOL = 256

export function metadataFor(i: number): Record<string, unknown> {
  return {
    monitoring: { enabled: i % 2 === 0 },
    limits: { cpu: { enabled: true, value: '500m' }, memory: { enabled: true, value: '512Mi' } },
    team: `team-${i % TEAMS}`,
    region: `region-${i % 7}`,
    labels: { tier: i % 3 === 0 ? 'gold' : 'silver', owner: `owner-${i % 31}` },
  }
}

export const datasetName = (i: number) => `dc-${String(i).padStart(6, '0')}`
export const poolName = (i: number) => `pool-${String(i).padStart(4, '0')}`

/** The body written by the write scenarios (and, base64, to etcd): same bytes for both. */
export const WRITE_METADATA = JSON.stringify(metadataFor(7))

/** POSTs `count` configs, `concurrency` at a time; every answer must be 201. */
export async function seed(
  baseUrl: string,
  from: number,
  count: number,
  name: (i: number) => string,
  concurrency = 64,
): Promise<void> {
  let next = from
  const end = from + count
  const worker = async () => {
    while (next < end) {
      const i = next++
      const response = await fetch(`${baseUrl}/configs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dcname: name(i), metadata: metadataFor(i) }),
      })
      if (response.status !== 201) throw new Error(`seeding ${name(i)}: ${response.status} ${await response.text()}`)
      await response.arrayBuffer().catch(() => {})
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** The current revision of each config of the write pool, as put-if-match.lua reads them. */
export async function poolRevisions(baseUrl: string): Promise<string> {
  const lines = await Promise.all(
    Array.from({ length: WRITE_POOL }, async (_, i) => {
      const response = await fetch(`${baseUrl}/configs/${poolName(i)}`)
      await response.arrayBuffer()
      const revision = /"(\d+)"/.exec(response.headers.get('etag') ?? '')?.[1]
      if (response.status !== 200 || !revision) throw new Error(`pool config ${poolName(i)}: ${response.status}`)
      return `${poolName(i)} ${revision}`
    }),
  )
  return `${lines.join('\n')}\n`
}
