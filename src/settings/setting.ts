/**
 * How one setting is declared (its variable, type, default and doc) and how a table of them is
 * read from the environment. The table itself is in ../settings.ts.
 */
import { Refused, type Type } from './types.ts'

export class SettingsError extends Error {
  constructor(variable: string, problem: string) {
    super(`invalid setting ${variable}: ${problem}`)
    this.name = 'SettingsError'
  }
}

/** One declared setting; `V` is the type its value has in `Settings`. */
export class Setting<V> {
  constructor(
    readonly env: string,
    readonly doc: string,
    readonly accepts: string,
    /** The default as the README shows it. */
    readonly shownDefault: string,
    private readonly parse: (raw: string | undefined) => V,
  ) {}

  read(env: Env): V {
    try {
      return this.parse(env[this.env])
    } catch (error) {
      if (error instanceof Refused) throw new SettingsError(this.env, error.message)
      throw error
    }
  }
}

interface Declared<T, D> {
  env: string
  type: Type<T>
  default: D
  /** Needed when `String(default)` would not say it: an object, or unset meaning something. */
  shownDefault?: string
  doc: string
}

export function setting<T>(declared: Declared<T, NoInfer<T>>): Setting<T>
export function setting<T>(declared: Declared<T, undefined>): Setting<T | undefined>
export function setting<T>(declared: Declared<T, T | undefined>): Setting<T | undefined> {
  const { env, type, doc } = declared
  const shownDefault = declared.shownDefault ?? (declared.default === undefined ? 'unset' : String(declared.default))
  return new Setting(env, doc, type.accepts, shownDefault, (raw) => type.parse(raw) ?? declared.default)
}

export type Env = Record<string, string | undefined>
type Group = Record<string, Setting<unknown>>
type Values<T> = { [K in keyof T]: T[K] extends Setting<infer V> ? V : Values<T[K]> }

export function readAll<T extends Record<string, Setting<unknown> | Group>>(table: T, env: Env): Values<T> {
  const read = (node: Setting<unknown> | Group): unknown =>
    node instanceof Setting
      ? node.read(env)
      : Object.fromEntries(Object.entries(node).map(([k, s]) => [k, s.read(env)]))
  // The one cast: Object.fromEntries cannot carry the table's keys into its result type.
  return Object.fromEntries(Object.entries(table).map(([key, node]) => [key, read(node)])) as Values<T>
}
