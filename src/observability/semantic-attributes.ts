/**
 * The OpenTelemetry semantic-convention attribute names this service sets, as the stable
 * conventions spell them. Written out here rather than imported from
 * @opentelemetry/semantic-conventions: that package's entry defines every name there is, and
 * loading it was a tenth of the start-up time of a service that, by default, traces nothing.
 * test/observability/semantic-attributes.test.ts holds them equal to the package's.
 */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method'
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code'
export const ATTR_HTTP_ROUTE = 'http.route'
export const ATTR_SERVER_ADDRESS = 'server.address'
export const ATTR_SERVER_PORT = 'server.port'
export const ATTR_SERVICE_NAME = 'service.name'
export const ATTR_SERVICE_VERSION = 'service.version'
export const ATTR_URL_PATH = 'url.path'
export const ATTR_URL_SCHEME = 'url.scheme'
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original'
