/**
 * `apply` and `diff`: configs as code. Both compute, per file, what apply makes of the config
 * (three-way.ts: the last-applied record, the file, the service's config), so `diff` shows
 * exactly what `apply` writes. `apply` writes only what differs, as a JSON Merge Patch
 * conditional on the revision it read (`If-Match`; `If-None-Match: *` for a create), so a
 * change made by someone else in between is refused (412) and reported instead of overwritten.
 * `--force` replaces the whole config with the file's instead (still conditional).
 */
import { createTwoFilesPatch } from 'diff'
import { type Config, type ConfigClient, ProblemError, type StoredConfig, UnreachableError } from '../client/index.ts'
import { applyMergePatch } from '../configs/merge-patch.ts'
import type { LocalConfig } from './files.ts'
import type { LastApplied } from './last-applied.ts'
import { colourDiff, err, errorLine, out } from './output.ts'
import { keptPaths, mergePatchBetween, sameJson, threeWayMerge } from './three-way.ts'

export interface ApplyOptions {
  dryRun: boolean
  /** Send every write as a dry run (`?dryRun=true`): the service checks it (schemas too), stores nothing. */
  serverDryRun: boolean
  /** Replace each config with the file's, dropping keys set elsewhere. */
  force: boolean
  prune: boolean
  /** dcname prefixes `prune` is limited to; empty: every config. */
  prefixes: string[]
  tokenGiven: boolean
  records: LastApplied
}

type Outcome = 'created' | 'configured' | 'unchanged' | 'pruned' | 'failed'

/** What apply does to one config: the service's config now, and what it writes in its place. */
interface Plan {
  current: StoredConfig | undefined
  result: Config
}

async function plan(client: ConfigClient, records: LastApplied, config: Config, force: boolean): Promise<Plan> {
  const current = await read(client, config.dcname)
  if (current === undefined || force) return { current, result: config }
  const last = records.read(config.dcname)
  const result = threeWayMerge(last, config, current.config) as Config
  if (last === undefined) {
    const kept = keptPaths(config, result)
    if (kept.length > 0) {
      err(
        `warning: config/${config.dcname}: no record of an earlier apply to this service here, so what the file lacks is kept (${kept.join(', ')}); --force replaces the whole config`,
      )
    }
  }
  return { current, result }
}

/** Writes the plan; the merge as a JSON Merge Patch unless it cannot say it (a null to set). */
async function write(client: ConfigClient, { current, result }: Plan, force: boolean, dryRun: boolean): Promise<void> {
  if (current === undefined) {
    await client.replace(result, { ifNoneMatch: '*', dryRun })
    return
  }
  const patch = mergePatchBetween(current.config, result)
  if (force || !sameJson(applyMergePatch(current.config, patch), result)) {
    await client.replace(result, { ifMatch: current.revision, dryRun })
  } else {
    await client.patch(result.dcname, patch, { ifMatch: current.revision, dryRun })
  }
}

/** Prints one line per config and a summary; the exit code (1 when any config failed). */
export async function apply(client: ConfigClient, local: LocalConfig[], options: ApplyOptions): Promise<number> {
  const counts: Record<Outcome, number> = { created: 0, configured: 0, unchanged: 0, pruned: 0, failed: 0 }
  const suffix = options.dryRun ? ' (dry run)' : options.serverDryRun ? ' (server dry run)' : ''
  const report = (name: string, outcome: Outcome) => {
    counts[outcome]++
    out(`config/${name} ${outcome}${suffix}`)
  }
  const fail = (name: string, error: unknown) => {
    // Nothing answers: every other config would fail the same way, so stop at the first.
    if (error instanceof UnreachableError) throw error
    counts.failed++
    err(`${errorLine(error, options.tokenGiven, `config/${name}`)}${conflictHint(error)}`)
  }
  for (const { config } of local) {
    try {
      const planned = await plan(client, options.records, config, options.force)
      const outcome =
        planned.current === undefined
          ? 'created'
          : sameJson(planned.current.config, planned.result)
            ? 'unchanged'
            : 'configured'
      if (!options.dryRun) {
        if (outcome !== 'unchanged') await write(client, planned, options.force, options.serverDryRun)
        if (!options.serverDryRun) options.records.write(config)
      }
      report(config.dcname, outcome)
    } catch (error) {
      fail(config.dcname, error)
    }
  }
  if (options.prune) {
    const wanted = new Set(local.map(({ config }) => config.dcname))
    let extra: string[] = []
    try {
      extra = (await client.listAll()).configs
        .map((config) => config.dcname)
        .filter((name) => !wanted.has(name) && withinPrefixes(name, options.prefixes))
    } catch (error) {
      if (error instanceof UnreachableError) throw error
      counts.failed++
      err(errorLine(error, options.tokenGiven))
    }
    for (const name of extra) {
      try {
        const current = await read(client, name)
        if (!options.dryRun) {
          if (current !== undefined) {
            await client.delete(name, { ifMatch: current.revision, dryRun: options.serverDryRun })
          }
          if (!options.serverDryRun) options.records.remove(name)
        }
        report(name, 'pruned')
      } catch (error) {
        fail(name, error)
      }
    }
  }
  const shown: Outcome[] = ['created', 'configured', 'unchanged']
  if (options.prune) shown.push('pruned')
  if (counts.failed > 0) shown.push('failed')
  const parts = shown.map((outcome) => `${counts[outcome]} ${outcome}`)
  out(`${local.length} config${local.length === 1 ? '' : 's'}: ${parts.join(', ')}${suffix}`)
  return counts.failed > 0 ? 1 : 0
}

export interface DiffOptions {
  force: boolean
  colour: boolean
  tokenGiven: boolean
  records: LastApplied
}

/** Prints a unified diff per config apply would change; 1 when any would (or failed), else 0. */
export async function diff(client: ConfigClient, local: LocalConfig[], options: DiffOptions) {
  let differs = false
  let failed = false
  for (const { file, config } of local) {
    try {
      const { current, result } = await plan(client, options.records, config, options.force)
      if (current !== undefined && sameJson(current.config, result)) continue
      differs = true
      const before = current === undefined ? '' : pretty(current.config)
      const server = current === undefined ? 'not on the server' : `server, revision ${current.revision}`
      const patch = createTwoFilesPatch(
        `config/${config.dcname} (${server})`,
        `config/${config.dcname} (${file})`,
        before,
        pretty(result),
      )
      // Leave out the `====` line the library puts first: a plain unified diff starts at `---`.
      const text = patch.replace(/^=+\n/, '').trimEnd()
      out(options.colour ? colourDiff(text) : text)
    } catch (error) {
      if (error instanceof UnreachableError) throw error
      failed = true
      err(errorLine(error, options.tokenGiven, `config/${config.dcname}`))
    }
  }
  return differs || failed ? 1 : 0
}

/** The config with its revision, or undefined when the service has none of that name. */
async function read(client: ConfigClient, dcname: string): Promise<StoredConfig | undefined> {
  try {
    return await client.get(dcname)
  } catch (error) {
    if (error instanceof ProblemError && error.status === 404) return undefined
    throw error
  }
}

function withinPrefixes(name: string, prefixes: string[]): boolean {
  return prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix))
}

function conflictHint(error: unknown): string {
  if (error instanceof ProblemError && error.status === 412) {
    return ': it changed on the service after it was compared, so it was not written; run diff and apply again'
  }
  return ''
}

/** Indented JSON with keys sorted at every level: the same config always reads the same. */
export function pretty(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  )
}
