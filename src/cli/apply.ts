/**
 * `apply` and `diff`: configs as code. Both compare each file's config with the service's
 * (semantically: key order and `"true"` versus `true` do not count). `apply` writes only what
 * differs, each write conditional on the revision it compared with (`If-Match`, or
 * `If-None-Match: *` for a create), so a change made by someone else in between is refused
 * (412) and reported instead of overwritten.
 */
import { createTwoFilesPatch } from 'diff'
import { type Config, type ConfigClient, ProblemError, type StoredConfig, UnreachableError } from '../client/index.ts'
import type { LocalConfig } from './files.ts'
import { colourDiff, err, errorLine, out } from './output.ts'

export interface ApplyOptions {
  dryRun: boolean
  prune: boolean
  /** dcname prefixes `prune` is limited to; empty: every config. */
  prefixes: string[]
  tokenGiven: boolean
}

type Outcome = 'created' | 'configured' | 'unchanged' | 'pruned' | 'failed'

/** Prints one line per config and a summary; the exit code (1 when any config failed). */
export async function apply(client: ConfigClient, local: LocalConfig[], options: ApplyOptions): Promise<number> {
  const counts: Record<Outcome, number> = { created: 0, configured: 0, unchanged: 0, pruned: 0, failed: 0 }
  const suffix = options.dryRun ? ' (dry run)' : ''
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
      const current = await read(client, config.dcname)
      if (current === undefined) {
        if (!options.dryRun) await client.replace(config, { ifNoneMatch: '*' })
        report(config.dcname, 'created')
      } else if (sameConfig(current.config, config)) {
        report(config.dcname, 'unchanged')
      } else {
        if (!options.dryRun) await client.replace(config, { ifMatch: current.revision })
        report(config.dcname, 'configured')
      }
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
        if (current !== undefined && !options.dryRun) await client.delete(name, { ifMatch: current.revision })
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

/** Prints a unified diff per config that differs; 1 when any does (or failed), else 0. */
export async function diff(client: ConfigClient, local: LocalConfig[], colour: boolean, tokenGiven: boolean) {
  let differs = false
  let failed = false
  for (const { file, config } of local) {
    try {
      const current = await read(client, config.dcname)
      if (current !== undefined && sameConfig(current.config, config)) continue
      differs = true
      const before = current === undefined ? '' : pretty(current.config)
      const server = current === undefined ? 'not on the server' : `server, revision ${current.revision}`
      const patch = createTwoFilesPatch(
        `config/${config.dcname} (${server})`,
        `config/${config.dcname} (${file})`,
        before,
        pretty(config),
      )
      // Leave out the `====` line the library puts first: a plain unified diff starts at `---`.
      const text = patch.replace(/^=+\n/, '').trimEnd()
      out(colour ? colourDiff(text) : text)
    } catch (error) {
      if (error instanceof UnreachableError) throw error
      failed = true
      err(errorLine(error, tokenGiven, `config/${config.dcname}`))
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

/** Equal as JSON values: key order does not count (both sides are normalized already). */
export function sameConfig(a: Config, b: Config): boolean {
  return pretty(a) === pretty(b)
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
