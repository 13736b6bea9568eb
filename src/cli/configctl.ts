#!/usr/bin/env bun
/**
 * configctl: the config service from a terminal or a CI job (README, "configctl").
 * Exit codes: 0 done (for diff: no difference), 1 a difference or an API error, 2 a usage error.
 *
 *   bin/configctl <command> [options]      (dist/configctl, built by `make cli` when out of date)
 */
import { Command, CommanderError, Option } from 'commander'
import pkg from '../../package.json' with { type: 'json' }
import { createClient } from '../client/index.ts'
import { addAgentCommand } from './agent-command.ts'
import { apply, diff } from './apply.ts'
import {
  collect,
  dcnameArgument,
  filterArgument,
  prefixArgument,
  revisionArgument,
  sinceArgument,
} from './arguments.ts'
import type { CommandContext } from './command-context.ts'
import { del, get, history, list, patch, rollback, watch } from './commands.ts'
import { readConfigs } from './files.ts'
import { LastApplied } from './last-applied.ts'
import { EXIT, err, errorLine, FORMATS, type Format, UsageError, useColour } from './output.ts'
import { addRolloutCommands } from './rollout-commands.ts'
import { addSchemaCommands } from './schema-program.ts'

const DEFAULT_URL = 'http://localhost:4999'

interface Global {
  url?: string
  token?: string
}

const prefixOption = () =>
  new Option('--prefix <prefix>', 'only configs whose dcname starts with this, e.g. payments-').argParser(
    prefixArgument,
  )

const output = () =>
  new Option('-o, --output <format>', 'how to print the data').choices(FORMATS as string[]).default('table')

const example = (...lines: string[]) => `\nExample:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`

export function program(run: (code: number) => void): Command {
  const root = new Command('configctl')
    .description(
      'Configs of config-service from a terminal or CI: get, list, apply a folder, diff, history, rollback, watch, agent, rollout.',
    )
    .option('--url <url>', `the service (default: $CONFIGCTL_URL, else ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (default: $CONFIGCTL_TOKEN)')
    .version(`configctl ${pkg.version}`, '--version', "print configctl's version")
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .exitOverride()
  root.addHelpText('after', example('configctl list --filter metadata.monitoring.enabled=true'))

  /** The client of the global options; the exit code of `action`, or 1 with its error on one line. */
  const withClient =
    <Args extends unknown[]>(action: (context: Context, ...args: Args) => Promise<number>) =>
    async (...args: Args) => {
      const global = root.opts<Global>()
      const token = global.token ?? process.env.CONFIGCTL_TOKEN ?? ''
      try {
        const url = serviceUrl(global.url ?? process.env.CONFIGCTL_URL ?? DEFAULT_URL)
        const client = createClient({ url, token: token === '' ? undefined : token })
        run(await action({ client, tokenGiven: token !== '', records: new LastApplied(url) }, ...args))
      } catch (error) {
        err(errorLine(error, token !== ''))
        run(error instanceof UsageError ? EXIT.usage : EXIT.failed)
      }
    }
  type Context = CommandContext

  root
    .command('get')
    .description(
      'Print one config (with --revision, as it stood at that store revision), or with --prefix every config whose dcname starts with it',
    )
    .argument('[name]', 'the dcname', dcnameArgument)
    .option('--revision <rev>', 'the store revision to read it at', revisionArgument)
    .addOption(prefixOption())
    .addOption(output())
    .addHelpText(
      'after',
      example(
        'configctl get datacenter-1 -o yaml',
        'configctl get datacenter-1 --revision 42',
        'configctl get --prefix payments- -o yaml',
      ),
    )
    .action(
      withClient(async (c, name: string | undefined, o: { revision?: number; prefix?: string; output: Format }) => {
        if (o.prefix === undefined) {
          if (name === undefined)
            throw new UsageError("missing required argument 'name' (or --prefix, for every config starting with it)")
          return get(c.client, name, o.revision, o.output)
        }
        if (name !== undefined) throw new UsageError('get takes a dcname or --prefix, not both')
        if (o.revision !== undefined) throw new UsageError('--revision reads one config: give a dcname, not --prefix')
        return list(c.client, [], o.output, o.prefix)
      }),
    )

  root
    .command('list')
    .description('Print every config (all pages), sorted by dcname')
    .option(
      '--filter <key=value>',
      'only configs where metadata.a.b (or dcname) has this value; repeat: all must match',
      filterArgument,
    )
    .addOption(prefixOption())
    .addOption(output())
    .addHelpText(
      'after',
      example('configctl list --filter metadata.team=payments -o json', 'configctl list --prefix payments-'),
    )
    .action(
      withClient((c, o: { filter?: string[]; prefix?: string; output: Format }) =>
        list(c.client, o.filter ?? [], o.output, o.prefix),
      ),
    )

  root
    .command('apply')
    .description(
      'Create or update the configs of a file or folder (.json, .yaml, .yml; one config each): keys removed from a file since its last apply are removed, keys set elsewhere stay',
    )
    .requiredOption('-f, --file <path>', 'a config file, or a folder of them')
    .addOption(
      new Option(
        '--dry-run [where]',
        'change nothing: client (the default) prints what would change; server sends each write as a dry run, which the service checks (schemas too)',
      )
        .choices(['client', 'server'])
        .preset('client'),
    )
    .option('--force', "replace each config with the file's (keys set elsewhere are removed too)")
    .option('--prune', 'also delete the configs of the service that are not in the files')
    .option(
      '--prefix <prefix>',
      'with --prune, delete only configs whose dcname starts with this (repeatable)',
      collect,
    )
    .addHelpText(
      'after',
      example('configctl apply -f configs/ --dry-run', 'configctl apply -f configs/ --prune --prefix payments-'),
    )
    .action(
      withClient((c, o: { file: string; dryRun?: string; force?: true; prune?: true; prefix?: string[] }) => {
        const prefixes = o.prefix ?? []
        if (prefixes.length > 0 && !o.prune) throw new UsageError('--prefix limits --prune: add --prune')
        const local = readConfigs(o.file)
        return apply(c.client, local, {
          dryRun: o.dryRun === 'client',
          serverDryRun: o.dryRun === 'server',
          force: o.force === true,
          prune: o.prune === true,
          prefixes,
          tokenGiven: c.tokenGiven,
          records: c.records,
        })
      }),
    )

  root
    .command('diff')
    .description('Print, per config, a unified diff of what apply would change; exit 1 when it would change any')
    .requiredOption('-f, --file <path>', 'a config file, or a folder of them')
    .option('--force', 'as apply --force: the whole config replaced by the file')
    .addHelpText('after', example('configctl diff -f configs/'))
    .action(
      withClient(async (c, o: { file: string; force?: true }) =>
        diff(c.client, readConfigs(o.file), {
          force: o.force === true,
          colour: useColour(),
          tokenGiven: c.tokenGiven,
          records: c.records,
        }),
      ),
    )

  root
    .command('patch')
    .description('Change a config with a JSON Merge Patch (RFC 7396: null removes a key)')
    .argument('<name>', 'the dcname', dcnameArgument)
    .requiredOption('-p, --patch <merge-patch>', 'the patch, as JSON')
    .addOption(output())
    .addHelpText('after', example(`configctl patch datacenter-1 -p '{"metadata":{"monitoring":{"enabled":false}}}'`))
    .action(
      withClient((c, name: string, o: { patch: string; output: Format }) => patch(c.client, name, o.patch, o.output)),
    )

  root
    .command('delete')
    .description('Delete a config')
    .argument('<name>', 'the dcname', dcnameArgument)
    .addHelpText('after', example('configctl delete datacenter-3'))
    .action(withClient((c, name: string) => del(c.client, name)))

  root
    .command('history')
    .description("Print a config's history, newest first")
    .argument('<name>', 'the dcname', dcnameArgument)
    .addOption(output())
    .addHelpText('after', example('configctl history datacenter-1'))
    .action(withClient((c, name: string, o: { output: Format }) => history(c.client, name, o.output)))

  root
    .command('rollback')
    .description('Write the state a config had at a revision again, as a new revision (undeletes it if deleted)')
    .argument('<name>', 'the dcname', dcnameArgument)
    .requiredOption('--to <rev>', 'the revision whose state to restore (see history)', revisionArgument)
    .addOption(output())
    .addHelpText('after', example('configctl rollback datacenter-1 --to 42'))
    .action(
      withClient((c, name: string, o: { to: number; output: Format }) => rollback(c.client, name, o.to, o.output)),
    )

  root
    .command('watch')
    .description('Print changes as they happen, until interrupted; resumes by itself after a disconnect')
    .option(
      '--filter <key=value>',
      'only configs where metadata.a.b (or dcname) has this value; repeat: all must match',
      filterArgument,
    )
    .option('--since <rev>', 'first replay the changes after this revision (0: all the kept history)', sinceArgument)
    .addOption(prefixOption())
    .addOption(output())
    .addHelpText(
      'after',
      example('configctl watch --filter metadata.team=payments -o json', 'configctl watch --since 42'),
    )
    .action(
      withClient((c, o: { filter?: string[]; since?: number; prefix?: string; output: Format }) =>
        watch(c.client, o.filter ?? [], o.since, o.output, o.prefix),
      ),
    )
  addSchemaCommands(root, withClient, output)
  addRolloutCommands(root, withClient, output)
  addAgentCommand(root, withClient)
  return root
}

function serviceUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.protocol === 'http:' || url.protocol === 'https:') return value
  } catch {}
  throw new UsageError(
    `the service URL ${JSON.stringify(value)} is not an http:// or https:// URL (CONFIGCTL_URL or --url)`,
  )
}

/** Runs configctl with these arguments (`process.argv` shape) and resolves to its exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok
  const root = program((c) => {
    code = c
  })
  if (argv.length <= 2) {
    root.outputHelp({ error: true })
    return EXIT.usage
  }
  try {
    await root.parseAsync(argv)
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    // Commander has printed its one line (or the help) already.
    const done = error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
    return done || error.code === 'commander.help' ? EXIT.ok : EXIT.usage
  }
  return code
}

if (import.meta.main) process.exit(await main(process.argv))
