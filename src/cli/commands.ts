/**
 * The commands that read or change one thing: get, list, patch, delete, history, rollback,
 * watch. Each prints its data in the chosen format (`-o json`: the API's JSON as it came) and
 * resolves to the exit code; errors are thrown to the caller, which prints them in one line.
 */
import type { ConfigClient, Filters, StoredConfig, WatchItem } from '../client/index.ts'
import { withRevisions } from './list-revisions.ts'
import { EXIT, err, type Format, json, out, render, UsageError, yaml } from './output.ts'

const CONFIG_COLUMNS = ['NAME', 'REVISION', 'METADATA']

export async function get(client: ConfigClient, name: string, revision: number | undefined, format: Format) {
  const stored = await client.get(name, { revision })
  out(render(format, withRevision(stored), CONFIG_COLUMNS, () => [row(stored)]))
  return EXIT.ok
}

/** `prefix`: only the configs whose dcname starts with it (`list --prefix`, `get --prefix`). */
export async function list(client: ConfigClient, filterArgs: string[], format: Format, prefix?: string) {
  const { configs, revision } = await client.listAll(filters(filterArgs), { prefix })
  if (configs.length === 0 && format === 'table') {
    // As kubectl's "No resources found": on stderr, so that the table's reader gets no rows.
    err(emptyListLine(filterArgs, prefix))
    return EXIT.ok
  }
  const stored = await withRevisions(client, configs, revision)
  out(render(format, stored.map(withRevision), CONFIG_COLUMNS, () => stored.map(row)))
  return EXIT.ok
}

function emptyListLine(filterArgs: string[], prefix: string | undefined): string {
  const start = prefix === undefined ? '' : ` start with ${JSON.stringify(prefix)}`
  if (filterArgs.length === 0) return prefix === undefined ? 'no configs' : `no configs${start}`
  return `no configs${start}${prefix === undefined ? '' : ' and'} match the filters`
}

/**
 * A config as configctl prints it in JSON and YAML (get, list, patch, rollback): the API's config with the revision of
 * the write that made it beside its name, as a Kubernetes object carries `resourceVersion` and an
 * etcd key `mod_revision`. Send it as `If-Match: "<revision>"`; `apply -f` ignores it.
 */
function withRevision({ config, revision }: StoredConfig) {
  return { dcname: config.dcname, revision, metadata: config.metadata }
}

export async function patch(client: ConfigClient, name: string, text: string, format: Format) {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`-p is not valid JSON: ${(error as Error).message}`)
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new UsageError('-p must be a JSON object, e.g. {"metadata":{"team":"payments"}}')
  }
  const stored = await client.patch(name, body as Record<string, unknown>)
  out(
    format === 'table'
      ? `config/${name} patched (revision ${stored.revision})`
      : render(format, withRevision(stored), [], () => []),
  )
  return EXIT.ok
}

export async function del(client: ConfigClient, name: string) {
  await client.delete(name)
  out(`config/${name} deleted`)
  return EXIT.ok
}

export async function history(client: ConfigClient, name: string, format: Format) {
  const entries = await client.historyAll(name)
  out(
    render(format, entries, ['REVISION', 'TYPE', 'ROLLBACK-OF', 'TIME', 'ACTOR', 'METADATA'], () =>
      entries.map((entry) => [
        String(entry.revision),
        entry.type,
        entry.rollbackOf === undefined ? '-' : String(entry.rollbackOf),
        entry.time,
        entry.actor,
        json(entry.config.metadata),
      ]),
    ),
  )
  return EXIT.ok
}

export async function rollback(client: ConfigClient, name: string, to: number, format: Format) {
  const stored = await client.rollback(name, to)
  const what = stored.created ? 'restored' : 'rolled back'
  out(
    format === 'table'
      ? `config/${name} ${what} to revision ${to} (now revision ${stored.revision})`
      : render(format, withRevision(stored), [], () => []),
  )
  return EXIT.ok
}

/**
 * Runs until SIGINT or SIGTERM (exit 0). `-o json` prints each event's data as the service sent
 * it, one per line; after a 410 the re-list is one `{"type":"RELIST","revision":..,"configs":[..]}` line.
 */
export async function watch(
  client: ConfigClient,
  filterArgs: string[],
  since: number | undefined,
  format: Format,
  prefix?: string,
) {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for await (const item of client.watch({ filters: filters(filterArgs), prefix, since, signal: stop.signal })) {
      out(watchLine(item, format))
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return EXIT.ok
}

function watchLine(item: WatchItem, format: Format): string {
  if (format === 'json') return json(item)
  if (format === 'yaml') return `---\n${yaml(item).trimEnd()}`
  if (item.type === 'RELIST') {
    const names = item.configs.map((config) => config.dcname).join(', ')
    return `RELIST    revision ${item.revision}: ${item.configs.length} configs${names ? ` (${names})` : ''}`
  }
  const restored = item.rollbackOf === undefined ? '' : ` (rollback of ${item.rollbackOf})`
  return `${item.type.padEnd(9)} config/${item.config.dcname} revision ${item.revision}${restored} ${json(item.config.metadata)}`
}

function row({ config, revision }: StoredConfig): string[] {
  return [config.dcname, String(revision), json(config.metadata)]
}

/** `key=value` arguments (checked by the option parser) as query filters. */
function filters(args: string[]): Filters {
  const result: Filters = {}
  for (const arg of args) {
    const at = arg.indexOf('=')
    result[arg.slice(0, at)] = arg.slice(at + 1)
  }
  return result
}
