import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { README, settingsTable, splitReadme } from '../scripts/readme-settings.ts'
import { DEFAULT_SQLITE_PATH, loadSettings, SETTING_LIST, SETTING_NAMES, SettingsError } from '../src/settings.ts'

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

  it('when access settings are set, then they are parsed, and anonymous reads default to true', () => {
    expect(loadSettings({})).toMatchObject({ tokensFile: undefined, anonymousRead: true, oidc: {} })
    const settings = loadSettings({
      API_TOKENS_FILE: '/etc/config-service/tokens.yaml',
      ANONYMOUS_READ: 'false',
      OIDC_ISSUER_URL: 'https://kubernetes.default.svc.cluster.local',
      OIDC_AUDIENCE: 'config-service',
    })
    expect(settings).toMatchObject({
      tokensFile: '/etc/config-service/tokens.yaml',
      anonymousRead: false,
      oidc: { issuerUrl: 'https://kubernetes.default.svc.cluster.local', audience: 'config-service' },
    })
  })

  const accessMistakes: [string, Record<string, string>, string][] = [
    ['OIDC without an audience', { OIDC_ISSUER_URL: 'https://i', API_TOKENS_FILE: 'f' }, 'OIDC_AUDIENCE'],
    [
      'a JWKS URL without an audience',
      { OIDC_JWKS_URL: 'https://i/k', OIDC_ISSUER_URL: 'https://i', API_TOKENS_FILE: 'f' },
      'OIDC_AUDIENCE',
    ],
    [
      'a JWKS URL without an issuer',
      { OIDC_JWKS_URL: 'https://i/k', OIDC_AUDIENCE: 'a', API_TOKENS_FILE: 'f' },
      'OIDC_ISSUER_URL',
    ],
    ['OIDC without a tokens file', { OIDC_ISSUER_URL: 'https://i', OIDC_AUDIENCE: 'a' }, 'API_TOKENS_FILE'],
    [
      'an issuer that is no URL',
      { OIDC_ISSUER_URL: 'kubernetes', OIDC_AUDIENCE: 'a', API_TOKENS_FILE: 'f' },
      'OIDC_ISSUER_URL',
    ],
    ['no anonymous reads and no token', { ANONYMOUS_READ: 'false' }, 'ANONYMOUS_READ'],
  ]
  it.each(accessMistakes)('when access is set up with %s, then a SettingsError names %s', (_what, env, variable) => {
    expect(() => loadSettings(env)).toThrow(SettingsError)
    expect(() => loadSettings(env)).toThrow(`invalid setting ${variable}: `)
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

  it('when a variable is set to blank, then its default applies', () => {
    const blank = Object.fromEntries(SETTING_NAMES.filter((name) => name !== 'API_TOKEN').map((name) => [name, ' ']))
    expect(loadSettings(blank)).toEqual(loadSettings({}))
  })
})

describe('the settings declaration', () => {
  it('when the README lists the settings, then its table is the one generated from the declaration (make readme)', () => {
    expect(splitReadme(readFileSync(README, 'utf8')).table).toBe(settingsTable())
  })

  it('when the README table is generated, then it has one row per variable read, with its default, values and doc', () => {
    const rows = settingsTable().split('\n').slice(2)
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(SETTING_NAMES.map((name) => `| \`${name}\``))
    for (const setting of SETTING_LIST) {
      for (const text of [setting.shownDefault, setting.accepts, setting.doc]) expect(text.trim()).not.toBe('')
    }
  })

  it('when a default is a plain value, then the README shows the value loadSettings gives', () => {
    for (const setting of SETTING_LIST) {
      const value = setting.read({})
      if (value !== undefined && typeof value !== 'object')
        expect([setting.env, setting.shownDefault]).toEqual([setting.env, String(value)])
    }
  })
})
