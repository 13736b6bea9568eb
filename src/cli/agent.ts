/**
 * `configctl agent`: keeps the configs of one dcname or a prefix on disk (agent-files.ts) as the
 * service changes them, and tells the service what it did with each revision.
 *
 * It lists what to hold, writes what differs from the disk, and watches from the list's
 * revision; the watch resumes by itself with `since` after a lost connection and lists again
 * after a 410 (client/watch.ts). Each change is checked on its own (`--check`): one that fails
 * is reported `rejected` with the check's output and leaves the files as they were, so the last
 * good copy stays where the workload reads it. While the service cannot be reached the files
 * stay too (a pod can start with them), and the agent tries again, backing off with jitter.
 * Reports are repeated every `--heartbeat` so that the service does not expire them.
 */
import type { Config, ConfigClient, StoredConfig } from '../client/index.ts'
import { ProblemError } from '../client/index.ts'
import { retryable as retryableStatus, sleep } from '../client/resuming-watch.ts'
import type { ConsumerState } from '../configs/consumers.ts'
import type { AgentTarget } from './agent-files.ts'
import { type CommandResult, runCommand, signalProcess } from './agent-hooks.ts'
import { withRevisions } from './list-revisions.ts'
import { errorLine } from './output.ts'

export interface AgentOptions {
  /** One config, or every config starting with `prefix`. */
  dcname?: string
  prefix?: string
  target: AgentTarget
  check?: string
  reload?: string
  signal?: { name: string; pidFile: string }
  consumer: string
  heartbeatMs: number
  /** Apply what the service holds now (or keep the last good copy when it is away) and stop. */
  once: boolean
  stop: AbortSignal
  log: (line: string) => void
  tokenGiven: boolean
}

interface Held {
  revision: number
  text: string
}

interface Report {
  revision: number
  state: ConsumerState
  message: string
}

const FIRST_DELAY_MS = 250
const MAX_DELAY_MS = 30_000

export async function runAgent(client: ConfigClient, options: AgentOptions): Promise<number> {
  const { target, log, stop } = options
  const held = new Map<string, Held>()
  for (const [dcname, text] of target.current()) held.set(dcname, { revision: 0, text })
  const reports = new Map<string, Report>()
  const described = options.dcname ?? `${options.prefix}*`

  const send = async (dcname: string) => {
    const report = reports.get(dcname)
    if (!report) return
    try {
      await client.consumers.report(dcname, options.consumer, report)
    } catch (error) {
      log(errorLine(error, options.tokenGiven, `report on ${dcname}`))
    }
  }

  /** Writes `wanted` (dcname -> stored config; absent: gone) where it differs from what is held. */
  const apply = async (wanted: Map<string, StoredConfig>, changed: string[]): Promise<void> => {
    const revisionOf = (dcname: string) => wanted.get(dcname)?.revision ?? 0
    // A config gone from the service is dropped from a folder; a lone file keeps its last copy.
    const textOfWanted = (dcname: string) => {
      const stored = wanted.get(dcname)
      return stored ? textOf(stored.config) : undefined
    }
    const differs = changed.filter((d) => {
      const text = textOfWanted(d)
      return held.get(d)?.text !== text && (text !== undefined || options.prefix !== undefined)
    })
    for (const dcname of changed) if (!differs.includes(dcname)) markApplied(dcname, revisionOf(dcname))
    if (differs.length > 0) await write(differs, textOfWanted, revisionOf)
    await Promise.all(changed.map(send))
  }

  const write = async (
    differs: string[],
    textOfWanted: (dcname: string) => string | undefined,
    revisionOf: (dcname: string) => number,
  ) => {
    const files = new Map([...held].map(([d, h]) => [d, h.text]))
    for (const dcname of differs) {
      const text = textOfWanted(dcname)
      if (text === undefined) files.delete(dcname)
      else files.set(dcname, text)
    }
    const staged = target.stage(files)
    const newest = Math.max(...differs.map(revisionOf))
    const env = { ...staged.env, CONFIG_DCNAME: differs.join(' '), CONFIG_REVISION: String(newest) }
    const checked = options.check === undefined ? { ok: true, message: '' } : await runCommand(options.check, env)
    if (!checked.ok) {
      staged.discard()
      for (const dcname of differs) {
        const revision = revisionOf(dcname)
        log(`rejected ${dcname} revision ${revision}: ${checked.message}`)
        if (revision > 0) reports.set(dcname, { revision, state: 'rejected', message: checked.message })
      }
      return
    }
    staged.commit()
    for (const dcname of differs) {
      const text = files.get(dcname)
      if (text === undefined) held.delete(dcname)
      else held.set(dcname, { revision: revisionOf(dcname), text })
      log(
        text === undefined
          ? `removed ${dcname}`
          : `applied ${dcname} revision ${revisionOf(dcname)} to ${target.pathOf(dcname)}`,
      )
    }
    const reloaded = await reload(options, { ...env, CONFIG_FILE: target.pathOf(differs[0] as string) })
    if (!reloaded.ok) log(`reload failed: ${reloaded.message}`)
    const note = reloaded.ok ? '' : `written, but the reload failed: ${reloaded.message}`
    for (const dcname of differs) markApplied(dcname, revisionOf(dcname), note)
  }

  const markApplied = (dcname: string, revision: number | undefined, message = '') => {
    if (revision === undefined || revision === 0) {
      reports.delete(dcname)
      return
    }
    const current = held.get(dcname)
    if (current) current.revision = revision
    reports.set(dcname, { revision, state: 'applied', message })
  }

  /** Every config to hold now, each with its revision; the store revision to watch from. */
  const snapshot = async (configs?: Config[], listedAt?: number) => {
    let listed = { configs: configs ?? [], revision: listedAt ?? 0 }
    if (configs === undefined) {
      listed =
        options.dcname !== undefined
          ? await client.listAll({ dcname: options.dcname })
          : await client.listAll({}, { prefix: options.prefix })
    }
    const stored = await withRevisions(client, listed.configs, listed.revision)
    return { wanted: new Map(stored.map((s) => [s.config.dcname, s])), revision: listed.revision }
  }

  const applySnapshot = async (wanted: Map<string, StoredConfig>) => {
    const changed = [...new Set([...held.keys(), ...wanted.keys()])].sort()
    if (options.dcname !== undefined && !wanted.has(options.dcname)) {
      log(`${options.dcname} does not exist (yet): waiting for it`)
    }
    await apply(wanted, changed)
  }

  // The first list: while the service is away, the files on disk are what the workload gets.
  let first: Awaited<ReturnType<typeof snapshot>> | undefined
  for (let attempt = 0; first === undefined; attempt++) {
    try {
      first = await snapshot()
    } catch (error) {
      if (!retryable(error)) throw error
      const keeping = held.size === 0 ? 'no copy on disk yet' : `keeping the last good copy (${held.size} file(s))`
      log(`${errorLine(error, options.tokenGiven, `listing ${described}`)}; ${keeping}`)
      if (options.once) return held.size > 0 ? 0 : 1
      await sleep(backoff(attempt), stop)
      if (stop.aborted) return 0
    }
  }
  await applySnapshot(first.wanted)
  if (options.once) return [...reports.values()].some((r) => r.state === 'rejected') ? 1 : 0

  const heartbeat = setInterval(() => void Promise.all([...reports.keys()].map(send)), options.heartbeatMs)
  try {
    const watched = options.dcname !== undefined ? { filters: { dcname: options.dcname } } : { prefix: options.prefix }
    let wanted = first.wanted
    const items = client.watch({
      ...watched,
      since: first.revision,
      signal: stop,
      onReconnect: (cause, since) =>
        log(`${errorLine(cause, options.tokenGiven, 'watch')}; resuming after revision ${since}`),
    })
    // The watch's read may not end when its fetch is aborted: the stop is raced against it.
    const stopped = new Promise<'stopped'>((resolve) => {
      if (stop.aborted) resolve('stopped')
      else stop.addEventListener('abort', () => resolve('stopped'), { once: true })
    })
    for (;;) {
      const next = await Promise.race([items.next(), stopped])
      if (next === 'stopped' || next.done) break
      const item = next.value
      if (item.type === 'RELIST') {
        log(`relisting ${described} at revision ${item.revision} (the watch could not resume)`)
        wanted = (await snapshot(item.configs, item.revision)).wanted
        await applySnapshot(wanted)
        continue
      }
      const dcname = item.config.dcname
      wanted = new Map(wanted)
      if (item.type === 'DELETED') wanted.delete(dcname)
      else wanted.set(dcname, { config: item.config, revision: item.revision })
      await apply(wanted, [dcname])
    }
  } finally {
    clearInterval(heartbeat)
  }
  return 0
}

/** What a workload reads: the config as the API answers it, indented, with a final newline. */
export function textOf(config: Config): string {
  return `${JSON.stringify(config, null, 2)}\n`
}

async function reload(options: AgentOptions, env: Record<string, string>): Promise<CommandResult> {
  if (options.reload !== undefined) return runCommand(options.reload, env)
  if (options.signal !== undefined) return signalProcess(options.signal.name, options.signal.pidFile)
  return { ok: true, message: '' }
}

/** Worth trying again later: the service is away, starting, or overloaded. */
function retryable(error: unknown): boolean {
  return !(error instanceof ProblemError) || retryableStatus(error.status)
}

/** Exponential, capped, with jitter: agents of a fleet that lost the service do not return in step. */
export function backoff(attempt: number): number {
  const ceiling = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS)
  return ceiling / 2 + Math.random() * (ceiling / 2)
}
