/** `configctl agent`, registered on configctl's program (configctl.ts); the loop is agent.ts. */
import { hostname } from 'node:os'
import { type Command, InvalidArgumentError } from 'commander'
import { CONSUMER_RULE, isConsumerName } from '../configs/consumers.ts'
import { runAgent } from './agent.ts'
import { dirTarget, fileTarget } from './agent-files.ts'
import { dcnameArgument, prefixArgument } from './arguments.ts'
import type { WithClient } from './command-context.ts'
import { err, UsageError } from './output.ts'

interface AgentFlags {
  dcname?: string
  prefix?: string
  file?: string
  dir?: string
  check?: string
  reload?: string
  signal?: string
  pidFile?: string
  consumer?: string
  heartbeat: number
  once?: true
}

const SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGWINCH']

function seconds(value: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(value) || Number(value) <= 0)
    throw new InvalidArgumentError('expected seconds, e.g. 30')
  return Number(value)
}

function consumerArgument(value: string): string {
  if (!isConsumerName(value)) throw new InvalidArgumentError(`expected a consumer name: ${CONSUMER_RULE}`)
  return value
}

function signalArgument(value: string): string {
  const name = value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`
  if (!SIGNALS.includes(name)) throw new InvalidArgumentError(`expected one of ${SIGNALS.join(', ')}`)
  return name
}

export function addAgentCommand(root: Command, withClient: WithClient): void {
  root
    .command('agent')
    .description(
      'Keep a config (or every config of a prefix) on disk as it changes, checked before it replaces the last good copy, and report to the service what was applied or rejected',
    )
    .option('--dcname <name>', 'the config to keep', dcnameArgument)
    .option('--prefix <prefix>', 'keep every config whose dcname starts with this (needs --dir)', prefixArgument)
    .option('--file <path>', 'write the config here (one config), replaced by a rename')
    .option('--dir <path>', 'write <dcname>.json files here, swapped all at once through a ..data symlink')
    .option(
      '--check <command>',
      'run before a change replaces the files ($CONFIG_FILE, $CONFIG_DIR); non-zero rejects it',
    )
    .option('--reload <command>', 'run after a change was written')
    .option('--signal <signal>', 'send this signal after a change was written (with --pid-file)', signalArgument)
    .option('--pid-file <path>', 'the file holding the process id --signal goes to')
    .option('--consumer <name>', 'the name reports are made under (default: the hostname)', consumerArgument)
    .option('--heartbeat <seconds>', 'repeat the reports this often, so they do not expire', seconds, 30)
    .option('--once', 'apply what the service holds now (or keep the last good copy) and exit')
    .addHelpText(
      'after',
      '\nExample:\n  $ configctl agent --dcname datacenter-1 --file /etc/app/config.json --check "app --validate $CONFIG_FILE" --signal HUP --pid-file /run/app.pid\n',
    )
    .action(
      withClient(async (c, o: AgentFlags) => {
        if ((o.dcname === undefined) === (o.prefix === undefined)) throw new UsageError('give --dcname or --prefix')
        if ((o.file === undefined) === (o.dir === undefined)) throw new UsageError('give --file or --dir')
        if (o.prefix !== undefined && o.file !== undefined)
          throw new UsageError('--prefix writes many files: use --dir')
        if (o.reload !== undefined && o.signal !== undefined)
          throw new UsageError('give --reload or --signal, not both')
        if ((o.signal === undefined) !== (o.pidFile === undefined))
          throw new UsageError('--signal and --pid-file go together')
        const consumer = o.consumer ?? consumerArgument(hostname().slice(0, 128))
        const target = o.file !== undefined ? fileTarget(o.file, o.dcname as string) : dirTarget(o.dir as string)
        const stop = new AbortController()
        const onSignal = () => stop.abort()
        process.once('SIGTERM', onSignal)
        process.once('SIGINT', onSignal)
        try {
          return await runAgent(c.client, {
            dcname: o.dcname,
            prefix: o.prefix,
            target,
            check: o.check,
            reload: o.reload,
            signal: o.signal !== undefined ? { name: o.signal, pidFile: o.pidFile as string } : undefined,
            consumer,
            heartbeatMs: o.heartbeat * 1000,
            once: o.once === true,
            stop: stop.signal,
            log: (line) => err(`${new Date().toISOString()} ${line}`),
            tokenGiven: c.tokenGiven,
          })
        } finally {
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
        }
      }),
    )
}
