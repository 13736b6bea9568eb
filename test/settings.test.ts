import { describe, expect, it } from 'bun:test'
import { DEFAULT_SQLITE_PATH, loadSettings, SETTING_NAMES, SettingsError } from '../src/settings.ts'

describe('loadSettings', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const settings = loadSettings({})
    expect(settings.port).toBe(4999)
    expect(settings.database).toEqual({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH })
    expect(settings.seed).toBe(true)
    expect(settings.apiToken).toBeUndefined()
    expect(settings.maxBodyBytes).toBe(65536)
    expect(settings.logLevel).toBe('info')
    expect(settings.shutdownDelayMs).toBe(0)
  })

  it('when DATABASE_URL names SQLite or PostgreSQL, then the target says which', () => {
    expect(loadSettings({ DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ kind: 'sqlite', path: ':memory:' })
    expect(loadSettings({ DATABASE_URL: 'sqlite:/var/lib/c.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/var/lib/c.db',
    })
    expect(loadSettings({ DATABASE_URL: 'sqlite:///var/lib/c.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/var/lib/c.db',
    })
    expect(loadSettings({ DATABASE_URL: 'postgres://u:p@db:5432/c' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/c',
    })
  })

  it('when values are set, then they are parsed into their types', () => {
    const settings = loadSettings({
      SERVE_PORT: '8080',
      SEED: 'false',
      API_TOKEN: 't0k3n',
      MAX_BODY_BYTES: '1024',
      LOG_LEVEL: 'debug',
    })
    expect(settings).toMatchObject({
      port: 8080,
      seed: false,
      apiToken: 't0k3n',
      maxBodyBytes: 1024,
      logLevel: 'debug',
    })
  })

  it('when a value is bad, then a SettingsError names the variable', () => {
    expect(() => loadSettings({ SERVE_PORT: '-1' })).toThrow(SettingsError)
    expect(() => loadSettings({ SERVE_PORT: '-1' })).toThrow(/SERVE_PORT/)
    expect(() => loadSettings({ SEED: 'sometimes' })).toThrow(/SEED/)
    expect(() => loadSettings({ DATABASE_URL: 'sqlite:' })).toThrow(/DATABASE_URL/)
    expect(() => loadSettings({ MAX_BODY_BYTES: '0' })).toThrow(/MAX_BODY_BYTES/)
  })

  it('when API_TOKEN is set but empty, then it is refused rather than leaving writes open', () => {
    expect(() => loadSettings({ API_TOKEN: '' })).toThrow(/API_TOKEN.*empty/)
    expect(() => loadSettings({ API_TOKEN: ' \t ' })).toThrow(/API_TOKEN.*empty/)
  })

  it('when settings are loaded, then exactly the variables of SETTING_NAMES are read', () => {
    const read = new Set<string>()
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_target, name) {
        if (typeof name === 'string') read.add(name)
        return undefined
      },
    })
    loadSettings(env)
    expect([...read].sort()).toEqual([...SETTING_NAMES].sort())
  })
})
