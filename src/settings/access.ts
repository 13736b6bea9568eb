/**
 * Access settings that only make sense together. Without this, OIDC without a tokens file would
 * refuse every JWT (no subject has a role), and ANONYMOUS_READ=false with no token at all would
 * let nobody read while writes stayed open.
 */
interface AccessValues {
  apiToken?: string
  tokensFile?: string
  anonymousRead: boolean
  oidc: { issuerUrl?: string; jwksUrl?: string; audience?: string }
}

/** The first variable to set (or fix), and why; undefined when the combination holds. */
export function accessProblem(values: AccessValues): { variable: string; problem: string } | undefined {
  const { apiToken, tokensFile, anonymousRead, oidc } = values
  const oidcOn = oidc.issuerUrl !== undefined || oidc.jwksUrl !== undefined
  if (oidcOn && oidc.issuerUrl === undefined)
    return { variable: 'OIDC_ISSUER_URL', problem: 'OIDC_JWKS_URL needs it too' }
  if (oidcOn && oidc.audience === undefined) return { variable: 'OIDC_AUDIENCE', problem: 'OIDC needs it set' }
  if (oidcOn && tokensFile === undefined) {
    return { variable: 'API_TOKENS_FILE', problem: 'OIDC needs it: its subjects give JWTs their roles' }
  }
  if (!anonymousRead && apiToken === undefined && tokensFile === undefined) {
    return { variable: 'ANONYMOUS_READ', problem: 'false needs API_TOKEN or API_TOKENS_FILE, or nobody could read' }
  }
  return undefined
}
