/**
 * Renders every kustomization with the real `kubectl kustomize`, from a copy of kustomize/ with
 * only the files git tracks, as a fresh clone has them (so nothing a developer's own deploy
 * left behind, such as an old generated database.env, can make a render pass).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ROOT } from '../support/server.ts'

export const KUSTOMIZE = join(ROOT, 'kustomize')
export const TARGETS = [
  'base',
  'overlays/minikube',
  'overlays/minikube-jaeger',
  'overlays/minikube-monitoring',
  'overlays/production',
] as const
export type Target = (typeof TARGETS)[number]

export const kubectl = Bun.which('kubectl')

// Rendered manifests are arbitrary YAML: tests look into them freely.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = any

export type K8sObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; [k: string]: Json }
  [k: string]: Json
}

export interface Rendered {
  objects: Map<Target, K8sObject[]>
}

/** A temp copy of kustomize/ holding exactly the files git tracks (or would: new, not ignored). */
export function kustomizeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
  const listed = Bun.spawnSync(['git', 'ls-files', '--cached', '--others', '--exclude-standard', 'kustomize'], {
    cwd: ROOT,
  })
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.toString()}`)
  for (const path of listed.stdout.toString().trim().split('\n')) {
    const target = join(dir, relative('kustomize', path))
    mkdirSync(dirname(target), { recursive: true })
    cpSync(join(ROOT, path), target)
  }
  return dir
}

let rendering: Promise<Rendered> | undefined

/** Renders every target once per process (several test files share the result). */
export function renderAll(): Promise<Rendered> {
  rendering ??= renderAllNow()
  return rendering
}

async function renderAllNow(): Promise<Rendered> {
  if (!kubectl) throw new Error('kubectl is not on PATH')
  const dir = kustomizeCopy()
  try {
    const renders = await Promise.all(TARGETS.map((target) => render(join(dir, target))))
    return { objects: new Map(TARGETS.map((target, i) => [target, renders[i] ?? []])) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function render(path: string): Promise<K8sObject[]> {
  const child = Bun.spawn([kubectl as string, 'kustomize', path], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  if (code !== 0) throw new Error(`kubectl kustomize ${path} failed: ${stderr}`)
  return parseYamlDocuments(stdout)
}

export function parseYamlDocuments(text: string): K8sObject[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`)
    return doc.toJS() as K8sObject
  })
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim())
    if (match) env[match[1] as string] = match[2] as string
  }
  return env
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name)
}

export function must(objects: K8sObject[], kind: string, name: string): K8sObject {
  const object = find(objects, kind, name)
  if (!object) throw new Error(`no ${kind} ${name} in the render`)
  return object
}

/** Pod templates of the workloads, with the workload they belong to. */
export function podTemplates(objects: K8sObject[]): { owner: K8sObject; template: K8sObject['spec'] }[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind))
    .map((owner) => ({ owner, template: owner.spec.template }))
}
