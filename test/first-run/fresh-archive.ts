/**
 * The project as a new user gets it: `git archive` of the working tree as it would be committed
 * (every tracked file and every new one git does not ignore; nothing installed, built or
 * generated), and a PATH that has Node.js and npm but no bun and no deno, as on the machine the
 * README's quick start begins from.
 */
import { copyFileSync, existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ROOT, tempDir } from '../support/server.ts'

function git(args: string[], env: Record<string, string> = {}): string {
  const result = Bun.spawnSync(['git', ...args], { cwd: ROOT, env: { ...process.env, ...env } })
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.toString()}`)
  return result.stdout.toString().trim()
}

/** A new folder holding `git archive` of the working tree (staged in a temporary index). */
export function freshArchive(): string {
  const index = join(tempDir('archive-index-'), 'index')
  // Starting from the real index spares hashing every file again; git add -A brings it up to date.
  copyFileSync(resolve(ROOT, git(['rev-parse', '--git-path', 'index'])), index)
  git(['add', '-A'], { GIT_INDEX_FILE: index })
  const tree = git(['write-tree'], { GIT_INDEX_FILE: index })
  const dir = tempDir('fresh-archive-')
  const archive = Bun.spawnSync(['bash', '-c', `git archive --format=tar ${tree} | tar -x -C '${dir}'`], { cwd: ROOT })
  if (archive.exitCode !== 0) throw new Error(`git archive failed: ${archive.stderr.toString()}`)
  return dir
}

/** process.env.PATH without any folder that holds a bun or a deno. */
export function nodeOnlyPath(): string {
  const runs = (folder: string, name: string) => {
    try {
      return statSync(join(folder, name)).isFile()
    } catch {
      return false
    }
  }
  return (process.env.PATH ?? '')
    .split(':')
    .filter((folder) => folder !== '' && existsSync(folder) && !runs(folder, 'bun') && !runs(folder, 'deno'))
    .join(':')
}

/**
 * The user's environment (their proxy and certificate settings reach npm) with the Node-only
 * PATH, and without what an enclosing make or bun run sets.
 */
export function userEnv(env: Record<string, string> = {}): Record<string, string> {
  const own = Object.entries(process.env).filter(
    ([name]) => !/^(MAKEFLAGS|MFLAGS|MAKELEVEL|MAKE_TERMOUT|MAKE_TERMERR)$|^(npm|BUN)_/i.test(name),
  )
  return { ...(Object.fromEntries(own) as Record<string, string>), PATH: nodeOnlyPath(), ...env }
}

/** Runs a shell command line in `dir` as the user would; its exit code, stdout and stderr. */
export async function shell(dir: string, line: string, env: Record<string, string> = {}) {
  const child = Bun.spawn(['bash', '-c', line], {
    cwd: dir,
    env: userEnv(env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  return { code, stdout, stderr }
}
