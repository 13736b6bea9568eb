/**
 * A small Dockerfile reader: enough of the syntax to check the project's Dockerfile by its
 * rules and to reproduce what its stages do (see image-build.ts). Continuation lines, comments,
 * JSON (exec) and shell forms, `--flag=value` options, and ENV in both of its spellings.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Instruction {
  keyword: string
  /** Everything after the keyword, continuation lines joined. */
  raw: string
  /** `--name=value` options in front of the arguments (COPY --from, --chown, ...). */
  flags: Record<string, string>
  /** The arguments after the flags: the JSON array in exec form, else split on whitespace. */
  args: string[]
  /** Whether the arguments were a JSON array (exec form). */
  execForm: boolean
  line: number
}

export interface Stage {
  /** The FROM image reference. */
  base: string
  name: string | undefined
  index: number
  instructions: Instruction[]
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = instruction.args
      if (base === undefined) throw new Error(`line ${instruction.line}: FROM without an image`)
      stages.push({
        base,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        index: stages.length,
        instructions: [],
      })
      continue
    }
    const stage = stages.at(-1)
    if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before any FROM`)
    stage.instructions.push(instruction)
  }
  return stages
}

export function readDockerfile(root: string): Stage[] {
  return parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
}

function instructions(text: string): Instruction[] {
  const result: Instruction[] = []
  let pending = ''
  let startLine = 0
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trimEnd()
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return
    // Comment lines inside a continued instruction are dropped, as Docker does.
    if (pending !== '' && line.trim().startsWith('#')) return
    if (pending === '') startLine = index + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      return
    }
    pending += line
    result.push(instruction(pending.trim(), startLine))
    pending = ''
  })
  if (pending !== '') result.push(instruction(pending.trim(), startLine))
  return result
}

function instruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(text)
  const keyword = (match?.[1] ?? '').toUpperCase()
  let rest = match?.[2] ?? ''
  const raw = rest
  const flags: Record<string, string> = {}
  for (let flag = /^--([a-z-]+)=(\S+)\s*/.exec(rest); flag; flag = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    flags[flag[1] as string] = flag[2] as string
    rest = rest.slice(flag[0].length)
  }
  if (rest.startsWith('[')) {
    const parsed: unknown = JSON.parse(rest)
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
      throw new Error(`line ${line}: ${keyword} exec form must be a JSON array of strings`)
    }
    return { keyword, raw, flags, args: parsed, execForm: true, line }
  }
  return { keyword, raw, flags, args: rest.split(/\s+/).filter(Boolean), execForm: false, line }
}

/** ENV NAME=value ... (values may be double-quoted) and the legacy ENV NAME value. */
export function envOf(instruction: Instruction): Record<string, string> {
  const text = instruction.raw.trim()
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    const [name, ...value] = text.split(/\s+/)
    return { [name as string]: value.join(' ') }
  }
  const env: Record<string, string> = {}
  for (const pair of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = pair[2] as string
    env[pair[1] as string] = value.startsWith('"') ? (JSON.parse(value) as string) : value
  }
  return env
}

/** What the final stage ends up with: its ENV, USER, WORKDIR, EXPOSE, and the process it starts. */
export interface RuntimeSpec {
  stage: Stage
  env: Record<string, string>
  user: string | undefined
  workdir: string
  exposed: string[]
  entrypoint: Instruction | undefined
  cmd: Instruction | undefined
  /** ENTRYPOINT + CMD as the runtime would exec them (exec form only). */
  argv: string[]
}

export function runtimeSpec(stages: Stage[]): RuntimeSpec {
  const stage = stages.at(-1)
  if (!stage) throw new Error('the Dockerfile has no stage')
  const env: Record<string, string> = {}
  let user: string | undefined
  let workdir = '/'
  const exposed: string[] = []
  let entrypoint: Instruction | undefined
  let cmd: Instruction | undefined
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'ENV':
        Object.assign(env, envOf(instruction))
        break
      case 'USER':
        user = instruction.args[0]
        break
      case 'WORKDIR':
        workdir = resolveWorkdir(workdir, instruction.args[0] ?? '/')
        break
      case 'EXPOSE':
        exposed.push(...instruction.args)
        break
      case 'ENTRYPOINT':
        entrypoint = instruction
        // Docker: setting ENTRYPOINT resets a CMD inherited or set before it.
        cmd = undefined
        break
      case 'CMD':
        cmd = instruction
        break
    }
  }
  const argv = [...(entrypoint?.args ?? []), ...(cmd?.args ?? [])]
  return { stage, env, user, workdir, exposed, entrypoint, cmd, argv }
}

export function resolveWorkdir(current: string, next: string): string {
  return next.startsWith('/') ? next : `${current.replace(/\/$/, '')}/${next}`
}
