/**
 * The types a setting can have: how a variable's text becomes a value, and what is refused.
 * Blank counts as unset everywhere but in a bearer token. Imports nothing: src/settings.ts
 * declares the settings with these.
 */

/** What a type says of a bad value; the loader adds the variable's name. */
export class Refused extends Error {}

/**
 * How one variable's text becomes a value. `parse` gets the text as set (undefined when unset)
 * and answers undefined for "not set", so that the setting's default applies.
 */
export interface Type<T> {
  parse(raw: string | undefined): T | undefined
  /** The values it takes, as the README shows them. */
  accepts: string
}

function present(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim()
}

export function integer(min: number, max: number): Type<number> {
  return {
    accepts: `${min} to ${max}`,
    parse(text) {
      const raw = present(text)
      if (raw === undefined) return undefined
      if (!/^\d+$/.test(raw)) throw new Refused(`expected a whole number, got ${JSON.stringify(raw)}`)
      const value = Number(raw)
      if (value < min || value > max) throw new Refused(`expected ${min} to ${max}, got ${raw}`)
      return value
    },
  }
}

export const boolean: Type<boolean> = {
  accepts: '`true`, `false` (or `1`, `0`, `yes`, `no`)',
  parse(text) {
    const raw = present(text)?.toLowerCase()
    if (raw === undefined) return undefined
    if (['true', '1', 'yes'].includes(raw)) return true
    if (['false', '0', 'no'].includes(raw)) return false
    throw new Refused(`expected true or false, got ${JSON.stringify(raw)}`)
  },
}

export function oneOf<T extends string>(allowed: readonly T[]): Type<T> {
  return {
    accepts: allowed.map((value) => `\`${value}\``).join(', '),
    parse(text) {
      const raw = present(text)
      if (raw === undefined) return undefined
      const found = allowed.find((value) => value === raw)
      if (found === undefined) throw new Refused(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`)
      return found
    },
  }
}

export const text: Type<string> = { accepts: 'text', parse: present }

export const httpUrl: Type<string> = {
  accepts: 'an `http://` or `https://` URL',
  parse(text) {
    const raw = present(text)
    if (raw === undefined) return undefined
    if (!URL.canParse(raw) || !['http:', 'https:'].includes(new URL(raw).protocol)) {
      throw new Refused('expected an http:// or https:// URL')
    }
    return raw
  },
}

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string } // path ':memory:' is an in-memory database
  | { kind: 'postgres'; url: string }

export const DEFAULT_SQLITE_PATH = './data/configs.db'

export const databaseUrl: Type<DatabaseTarget> = {
  accepts: '`sqlite:<path>`, `sqlite::memory:`, `postgres://user:password@host:5432/db` (`postgresql://` too)',
  parse(text) {
    const url = present(text)
    if (url === undefined) return undefined
    if (url === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' }
    if (url.startsWith('sqlite:')) {
      const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
      if (path === '') throw new Refused('sqlite: needs a file path, e.g. sqlite:./data/configs.db')
      return { kind: 'sqlite', path }
    }
    if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
      if (!URL.canParse(url)) throw new Refused('is not a valid postgres:// URL')
      return { kind: 'postgres', url }
    }
    // Never echo the value: a mistyped URL may still carry a password.
    throw new Refused('expected sqlite:<path>, sqlite::memory: or postgres://...')
  },
}

export const bearerToken: Type<string> = {
  accepts: 'printable ASCII without spaces',
  parse(raw) {
    if (raw === undefined) return undefined
    // Set but empty is most likely a Secret that came out empty: leaving writes open would be silent.
    if (raw.trim() === '') throw new Refused('is set but empty; unset it to leave writes open')
    // A token with spaces or control characters cannot travel in a Bearer header intact.
    if (!/^[\x21-\x7e]+$/.test(raw)) throw new Refused('must be printable ASCII without spaces')
    return raw
  },
}
