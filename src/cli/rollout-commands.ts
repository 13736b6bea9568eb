/**
 * `configctl rollout start -f change.yaml | status [ID] [--watch] | pause | resume | abort | approve ID`:
 * rollouts from a terminal or CI. The file is the body of POST /rollouts, in YAML or JSON; the
 * service checks it (a fault is its one-line problem, exit 1).
 */
import { readFileSync } from 'node:fs'
import type { Command, Option } from 'commander'
import { parse } from 'yaml'
import { type ConfigClient, type Rollout, RolloutClient, type RolloutRequest } from '../client/index.ts'
import type { WithClient } from './command-context.ts'
import { EXIT, type Format, out, render, UsageError } from './output.ts'
import { followRollout } from './rollout-follow.ts'

const VERBS = ['pause', 'resume', 'abort', 'approve'] as const
const LIST_COLUMNS = ['ID', 'STATUS', 'WAVE', 'APPLIED', 'REVERTED', 'CREATED BY', 'REASON']
const TIMELINE_COLUMNS = ['TIME', 'EVENT', 'WAVE', 'DCNAME', 'DETAIL']

export function addRolloutCommands(root: Command, withClient: WithClient, output: () => Option): void {
  const rollout = root.command('rollout').description('Rollouts: a change taken to many configs wave by wave, gated')
  rollout
    .command('start')
    .description('Start the rollout a file describes (YAML or JSON: change, target, waves, bake, gates, ...)')
    .requiredOption('-f, --file <path>', 'the rollout file')
    .action(withClient((c, o: { file: string }) => start(c.client, o.file)))
  rollout
    .command('status')
    .description('Without ID, the rollouts, newest first; with one, its configs by wave and its timeline')
    .argument('[id]', 'a rollout id')
    .addOption(output())
    .option('-w, --watch', 'with ID: print each step until it ends; exit 0 when completed, 1 when reverted or aborted')
    .action(
      withClient((c, id: string | undefined, o: { output: Format; watch?: boolean }) => {
        if (!o.watch) return status(c.client, id, o.output)
        if (id === undefined) throw new UsageError('--watch follows one rollout: give its ID')
        return followRollout(c.client, id)
      }),
    )
  for (const verb of VERBS) {
    rollout
      .command(verb)
      .description(`${verb[0]?.toUpperCase()}${verb.slice(1)} a rollout`)
      .argument('<id>', 'the rollout id')
      .action(withClient((c, id: string) => steer(c.client, verb, id)))
  }
}

async function start(client: ConfigClient, file: string): Promise<number> {
  const started = await new RolloutClient(client).start(readRolloutFile(file))
  const configs = started.configs.length
  out(`rollout/${started.id} started: ${configs} config(s) in ${started.waves} wave(s), ${started.status}`)
  return EXIT.ok
}

async function status(client: ConfigClient, id: string | undefined, format: Format): Promise<number> {
  const rollouts = new RolloutClient(client)
  if (id === undefined) {
    const { items } = await rollouts.list()
    const rows = () =>
      items.map((r) => [
        r.id,
        r.status,
        r.wave < 0 ? '-' : `${r.wave + 1}/${r.waves}`,
        String(r.counts.applied),
        String(r.counts.reverted),
        r.createdBy,
        r.reason ?? '',
      ])
    out(render(format, items, LIST_COLUMNS, rows))
    return EXIT.ok
  }
  const rollout = await rollouts.status(id)
  if (format !== 'table') {
    out(render(format, rollout, [], () => []))
    return EXIT.ok
  }
  out(summaryOf(rollout))
  const rows = rollout.timeline.map((e) => [
    e.time,
    e.event,
    e.wave === undefined ? '' : String(e.wave + 1),
    e.dcname ?? '',
    e.detail ?? '',
  ])
  out(render('table', rollout.timeline, TIMELINE_COLUMNS, () => rows))
  return EXIT.ok
}

async function steer(client: ConfigClient, verb: (typeof VERBS)[number], id: string): Promise<number> {
  const rollout = await new RolloutClient(client).steer(verb, id)
  out(`rollout/${id} ${rollout.status}${rollout.reason ? `: ${rollout.reason}` : ''}`)
  return EXIT.ok
}

/** Its status, then each wave's configs by state, as lines a person reads. */
function summaryOf(rollout: Rollout): string {
  const lines = [`rollout/${rollout.id}: ${rollout.status}${rollout.reason ? ` (${rollout.reason})` : ''}`]
  if (rollout.bakeUntil) lines.push(`baking until ${rollout.bakeUntil}`)
  rollout.plan.waves.forEach((names, wave) => {
    const states = new Map<string, number>()
    for (const c of rollout.configs) if (c.wave === wave) states.set(c.state, (states.get(c.state) ?? 0) + 1)
    const counts = [...states].map(([state, n]) => `${n} ${state}`).join(', ')
    lines.push(`wave ${wave + 1}: ${names.length} config(s): ${counts}`)
  })
  return lines.join('\n')
}

function readRolloutFile(file: string): RolloutRequest {
  let value: unknown
  try {
    value = parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message.split('\n')[0]}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${file}: not a rollout file (a mapping with change, target, waves, bake)`)
  }
  return value as RolloutRequest
}
