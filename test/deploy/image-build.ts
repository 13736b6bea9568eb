/**
 * Builds, without a container engine, the file tree the Dockerfile's final stage would hold,
 * by doing what each instruction says: COPY from the build context (honouring .dockerignore) or
 * from an earlier stage, with --chown; WORKDIR; and the build stages' RUN steps, run from the
 * stage's working directory with this machine's Bun (the version the Dockerfile pins).
 * Only what the project's Dockerfile uses is supported, and anything else is refused loudly,
 * so the reproduction can never silently differ from the image. The base image's own files
 * (Debian, Bun) are not built: container-sandbox.sh lends the host's.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { resolveWorkdir, type Stage } from './dockerfile.ts'

export interface BuiltImage {
  /** The final stage's root directory. */
  rootfs: string
}

/** .dockerignore as Docker applies it: the last matching pattern wins, `!` re-includes. */
export function dockerignore(root: string): (path: string) => boolean {
  const file = join(root, '.dockerignore')
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => {
          const negated = l.startsWith('!')
          const pattern = (negated ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '')
          return { negated, glob: new Bun.Glob(pattern) }
        })
    : []
  return (path: string) => {
    // A path is excluded when it, or a directory above it, matches.
    const parts = path.split('/')
    let excluded = false
    for (const { negated, glob } of patterns) {
      for (let i = 1; i <= parts.length; i++) {
        if (glob.match(parts.slice(0, i).join('/'))) {
          excluded = !negated
          break
        }
      }
    }
    return excluded
  }
}

const RUN_ALLOWED = [
  /^bun install( --[a-z-]+)*$/,
  /^bun run [a-z:-]+$/,
  /^mkdir( -p)? [A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
]

/**
 * Builds every stage into its own directory under `workDir` and returns the final one.
 * `bunDir` is a directory whose `bun` is the Bun to run RUN steps with.
 */
export async function buildImage(
  stages: Stage[],
  context: string,
  workDir: string,
  bunDir: string,
): Promise<BuiltImage> {
  const ignored = dockerignore(context)
  const roots = new Map<string, string>()
  /** Where each stage's WORKDIR ended: a stage built FROM it starts there, as in Docker. */
  const workdirs = new Map<string, string>()
  let last = ''
  for (const stage of stages) {
    const rootfs = join(workDir, `stage-${stage.index}`)
    mkdirSync(rootfs, { recursive: true })
    roots.set(String(stage.index), rootfs)
    if (stage.name) roots.set(stage.name, rootfs)
    const from = roots.get(stage.base)
    if (from && from !== rootfs) run(['cp', '-a', `${from}/.`, rootfs])
    const isFinal = stage === stages.at(-1)
    let workdir = workdirs.get(stage.base) ?? '/'
    for (const instruction of stage.instructions) {
      switch (instruction.keyword) {
        case 'WORKDIR':
          workdir = resolveWorkdir(workdir, instruction.args[0] ?? '/')
          mkdirSync(join(rootfs, workdir), { recursive: true })
          break
        case 'COPY': {
          const sources = instruction.args.slice(0, -1)
          const dest = instruction.args.at(-1) ?? '.'
          const fromStage = instruction.flags.from
          const sourceRoot = fromStage === undefined ? context : roots.get(fromStage)
          if (!sourceRoot) throw new Error(`line ${instruction.line}: unknown stage ${fromStage}`)
          copy(
            sources,
            dest,
            { rootfs, workdir, sourceRoot, fromContext: fromStage === undefined, ignored },
            instruction,
          )
          break
        }
        case 'RUN': {
          const command = instruction.args.join(' ')
          if (isFinal) throw new Error(`line ${instruction.line}: RUN in the final stage cannot be reproduced offline`)
          if (!RUN_ALLOWED.some((re) => re.test(command))) {
            throw new Error(`line ${instruction.line}: the offline build cannot reproduce RUN ${command}`)
          }
          const run = Bun.spawnSync(['sh', '-c', command], {
            cwd: join(rootfs, workdir),
            env: { PATH: `${bunDir}:/usr/bin:/bin`, HOME: process.env.HOME ?? '/root' },
            stdout: 'pipe',
            stderr: 'pipe',
          })
          if (run.exitCode !== 0) {
            throw new Error(
              `RUN ${command} failed (${run.exitCode}): ${run.stderr.toString()} ${run.stdout.toString()}`,
            )
          }
          break
        }
        case 'ENV':
        case 'USER':
        case 'EXPOSE':
        case 'ENTRYPOINT':
        case 'CMD':
        case 'LABEL':
        case 'ARG':
          break
        default:
          throw new Error(`line ${instruction.line}: ${instruction.keyword} is not reproduced offline`)
      }
    }
    workdirs.set(String(stage.index), workdir)
    if (stage.name) workdirs.set(stage.name, workdir)
    last = rootfs
  }
  // The runtime user must be able to reach its files, as in an image whose / is 0755.
  chmodSync(last, 0o755)
  return { rootfs: last }
}

interface CopyContext {
  rootfs: string
  workdir: string
  sourceRoot: string
  fromContext: boolean
  ignored: (path: string) => boolean
}

function copy(
  sources: string[],
  dest: string,
  ctx: CopyContext,
  instruction: { line: number; flags: Record<string, string> },
) {
  const target = join(ctx.rootfs, dest.startsWith('/') ? dest : resolveWorkdir(ctx.workdir, dest))
  const intoDirectory = dest.endsWith('/') || dest === '.' || sources.length > 1
  const chown = instruction.flags.chown
  const [uid, gid] = chown ? chown.split(':').map(Number) : [undefined, undefined]
  if (chown && (!Number.isInteger(uid) || !Number.isInteger(gid))) {
    throw new Error(`line ${instruction.line}: --chown must be numeric uid:gid offline, got ${chown}`)
  }
  for (const source of sources) {
    if (/[*?[]/.test(source)) throw new Error(`line ${instruction.line}: wildcards in COPY are not reproduced`)
    const relativeSource = source.replace(/^\/+/, '')
    const from = join(ctx.sourceRoot, relativeSource)
    if (!existsSync(from)) throw new Error(`line ${instruction.line}: COPY source ${source} does not exist`)
    if (ctx.fromContext && ctx.ignored(relativeSource)) {
      throw new Error(`line ${instruction.line}: COPY source ${source} is excluded by .dockerignore`)
    }
    const isDir = lstatSync(from).isDirectory()
    // Docker copies a directory's contents, not the directory itself.
    const to = isDir || !intoDirectory ? target : join(target, source.split('/').at(-1) as string)
    mkdirSync(isDir ? to : dirname(to), { recursive: true })
    if (ctx.fromContext) copyTree(from, to, (p) => ctx.ignored(relative(ctx.sourceRoot, p)))
    // Hard links are quick and safe: a stage's files are never changed after the copy. Files
    // whose owner changes get copies of their own.
    else run(['cp', chown ? '-a' : '-al', isDir ? `${from}/.` : from, to])
    if (uid !== undefined && gid !== undefined) run(['chown', '-R', `${uid}:${gid}`, to])
  }
}

function copyTree(from: string, to: string, skip: (path: string) => boolean) {
  const stat = lstatSync(from)
  if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to)
    return
  }
  if (!stat.isDirectory()) {
    cpSync(from, to)
    return
  }
  mkdirSync(to, { recursive: true })
  for (const entry of readdirSync(from)) {
    const path = join(from, entry)
    if (skip(path)) continue
    copyTree(path, join(to, entry), skip)
  }
}

function run(argv: string[]) {
  const result = Bun.spawnSync(argv, { stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr.toString()}`)
}
