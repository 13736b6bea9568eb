/**
 * The revision of each config of a list. The list's answer carries none, so each comes from a
 * HEAD of the config (answered from the service's memory), a few at a time as the console does.
 * A config written after the list was read (its revision now is past the list's `X-Revision`,
 * or it is gone) is read as it stood at the list's revision instead, so that a row never pairs
 * one state of a config with the revision of another.
 */

import { type Config, type ConfigClient, ProblemError, type StoredConfig } from '../client/index.ts'
import { revisionOf } from '../client/requests.ts'

const AT_ONCE = 8

export async function withRevisions(
  client: ConfigClient,
  configs: Config[],
  listedAt: number,
): Promise<StoredConfig[]> {
  const result: StoredConfig[] = new Array(configs.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < configs.length; i = next++) {
      const config = configs[i] as Config
      result[i] = { config, revision: await revisionAsListed(client, config.dcname, listedAt) }
    }
  }
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, configs.length) }, worker))
  return result
}

async function revisionAsListed(client: ConfigClient, dcname: string, listedAt: number): Promise<number> {
  const path = `/configs/${encodeURIComponent(dcname)}`
  try {
    const revision = revisionOf((await client.request(path, { method: 'HEAD' })).headers)
    if (revision <= listedAt) return revision
  } catch (error) {
    if (!(error instanceof ProblemError && error.status === 404)) throw error
  }
  return (await client.get(dcname, { revision: listedAt })).revision
}
