/** The schema commands of configctl, registered on its program (configctl.ts); see schema-commands.ts. */
import type { Command, Option } from 'commander'
import { revisionArgument } from './arguments.ts'
import type { WithClient } from './command-context.ts'
import { type Format, UsageError } from './output.ts'
import {
  schemaApply,
  schemaDelete,
  schemaGet,
  schemaHistory,
  schemaList,
  schemaRollback,
  validate,
} from './schema-commands.ts'

const example = (...lines: string[]) => `\nExample:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`

export function addSchemaCommands(root: Command, withClient: WithClient, output: () => Option): void {
  const schema = root.command('schema').description('Config schemas: a JSON Schema for the configs under a prefix')
  schema
    .command('apply')
    .description('Create or replace the schema of a file (JSON or YAML: name, prefix, mode, schema)')
    .requiredOption('-f, --file <path>', 'the schema file')
    .option('--force', 'store an enforce schema although existing configs break it')
    .option('--dry-run <where>', 'server: the service checks it and stores nothing')
    .addHelpText('after', example('configctl schema apply -f payments.schema.yaml --dry-run=server'))
    .action(
      withClient((c, o: { file: string; force?: true; dryRun?: string }) => {
        if (o.dryRun !== undefined && o.dryRun !== 'server') throw new UsageError('--dry-run takes server')
        return schemaApply(c.client, o.file, { force: o.force === true, dryRun: o.dryRun === 'server' })
      }),
    )
  schema
    .command('get')
    .description('Print one schema')
    .argument('<name>', 'the schema name')
    .addOption(output())
    .action(withClient((c, name: string, o: { output: Format }) => schemaGet(c.client, name, o.output)))
  schema
    .command('list')
    .description('Print every schema, by name')
    .addOption(output())
    .action(withClient((c, o: { output: Format }) => schemaList(c.client, o.output)))
  schema
    .command('delete')
    .description('Delete a schema')
    .argument('<name>', 'the schema name')
    .option('--dry-run <where>', 'server: the service checks it and deletes nothing')
    .action(
      withClient((c, name: string, o: { dryRun?: string }) => schemaDelete(c.client, name, o.dryRun === 'server')),
    )
  schema
    .command('history')
    .description("Print a schema's history, newest first")
    .argument('<name>', 'the schema name')
    .addOption(output())
    .addHelpText('after', example('configctl schema history payments'))
    .action(withClient((c, name: string, o: { output: Format }) => schemaHistory(c.client, name, o.output)))
  schema
    .command('rollback')
    .description('Write the state a schema had at a revision again, as a new revision (undeletes it if deleted)')
    .argument('<name>', 'the schema name')
    .requiredOption('--to-revision <rev>', 'the revision whose state to restore (see schema history)', revisionArgument)
    .option('--force', 'restore an enforce schema although existing configs break it')
    .option('--dry-run <where>', 'server: the service checks it and stores nothing')
    .addHelpText('after', example('configctl schema rollback payments --to-revision 42'))
    .action(
      withClient((c, name: string, o: { toRevision: number; force?: true; dryRun?: string }) => {
        if (o.dryRun !== undefined && o.dryRun !== 'server') throw new UsageError('--dry-run takes server')
        const options = { force: o.force === true, dryRun: o.dryRun === 'server' }
        return schemaRollback(c.client, name, o.toRevision, options)
      }),
    )
  root
    .command('validate')
    .description("Check a file or folder of configs against the service's schemas (fetched once), changing nothing")
    .requiredOption('-f, --file <path>', 'a config file, or a folder of them')
    .addHelpText('after', example('configctl validate -f configs/'))
    .action(withClient((c, o: { file: string }) => validate(c.client, o.file)))
}
