/**
 * Access control from the settings: API_TOKEN, API_TOKENS_FILE (polled for changes) and OIDC,
 * combined into one authenticate function and the rules of anonymous access.
 *
 * A tokens file that cannot be used at start-up stops the process with one line naming
 * API_TOKENS_FILE: exit 2 for content that is wrong in itself, 1 for a file that cannot be read
 * here (not mounted, no permission). Later, a bad file keeps the tokens in force.
 */
import { Authenticator } from './access/authenticator.ts'
import { type JwtTuning, JwtVerifier } from './access/jwt-verifier.ts'
import { nestedPrefixes } from './access/token-file-prefixes.ts'
import type { TokenFileSource } from './access/token-file-source.ts'
import { TokenFileError, type TokenTable } from './access/token-table.ts'
import type { AccessRules, Principal } from './configs/access.ts'
import type { Logger } from './observability/logger.ts'
import type { Metrics } from './observability/metrics.ts'
import { type Settings, SettingsError } from './settings.ts'
import { StartupError } from './startup.ts'

export interface Access {
  rules: AccessRules
  authenticate: (token: string) => Promise<Principal>
  /** Stops polling the file and retrying discovery. */
  close(): void
}

export interface AccessOptions {
  /** How often the tokens file is checked for a change. */
  pollMs?: number
  jwt?: JwtTuning
}

type AccessSettings = Pick<Settings, 'apiToken' | 'tokensFile' | 'anonymousRead' | 'oidc'>

export async function openAccess(
  settings: AccessSettings,
  logger: Logger,
  metrics: Pick<Metrics, 'tokenFileReload'>,
  options: AccessOptions = {},
): Promise<Access> {
  const file = settings.tokensFile === undefined ? undefined : await openTokenFile(settings.tokensFile, logger, metrics)
  file?.start(options.pollMs)
  const { issuerUrl, jwksUrl, audience } = settings.oidc
  const jwt =
    issuerUrl === undefined || audience === undefined
      ? undefined
      : new JwtVerifier(
          { issuer: issuerUrl, audience, jwksUrl },
          {
            onKeysLocated: (url) => logger.info({ jwksUrl: url }, 'OIDC: verifying JWTs with these keys'),
            onDiscoveryFailed: (problem, retryInMs) =>
              logger.warn({ problem, retryInMs }, 'OIDC: discovery failed; JWTs get 503 until it succeeds'),
          },
          options.jwt,
        )
  void jwt?.start()
  const authenticator = new Authenticator({
    apiToken: settings.apiToken,
    table: file && (() => file.table),
    jwt,
  })
  const rules = { protected: authenticator.configured, anonymousRead: settings.anonymousRead }
  logger.info(
    {
      protected: rules.protected,
      anonymousRead: rules.anonymousRead,
      namedTokens: file?.table.tokens.length ?? 0,
      subjects: file?.table.subjects.size ?? 0,
      oidc: jwt !== undefined,
    },
    'access control',
  )
  return {
    rules,
    authenticate: (token) => authenticator.authenticate(token),
    close() {
      file?.stop()
      jwt?.stop()
    },
  }
}

async function openTokenFile(
  path: string,
  logger: Logger,
  metrics: Pick<Metrics, 'tokenFileReload'>,
): Promise<TokenFileSource> {
  // Loaded only for a tokens file: its parser (YAML) was part of every start (bench/README.md).
  const { TokenFileSource } = await import('./access/token-file-source.ts')
  try {
    const source = new TokenFileSource(path, {
      onReloaded: (table) => {
        metrics.tokenFileReload('ok')
        logger.info({ tokens: table.tokens.length, subjects: table.subjects.size }, 'API_TOKENS_FILE reloaded')
        warnOfNestedPrefixes(table, logger)
      },
      onReloadFailed: (problem) => {
        metrics.tokenFileReload('error')
        logger.error({ problem }, 'API_TOKENS_FILE refused: the tokens in force stay')
      },
    })
    warnOfNestedPrefixes(source.table, logger)
    return source
  } catch (error) {
    if (!(error instanceof TokenFileError)) throw error
    if (error.reason === 'unreadable') throw new StartupError('API_TOKENS_FILE', error.message)
    throw new SettingsError('API_TOKENS_FILE', error.message)
  }
}

/** One line per token or subject whose plain prefix also covers another entry's (see nestedPrefixes). */
function warnOfNestedPrefixes(table: TokenTable, logger: Logger): void {
  for (const { actor, prefixes, covered } of nestedPrefixes(table)) {
    logger.warn(
      { actor, prefixes, covered },
      "API_TOKENS_FILE: a prefix also grants other entries' prefixes (end it with -, . or _ to stop at a word)",
    )
  }
}
