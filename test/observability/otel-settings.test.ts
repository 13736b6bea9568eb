import { describe, expect, it } from 'bun:test'
import { loadSettings, SETTING_NAMES, SettingsError } from '../../src/settings.ts'

const tracing = (env: Record<string, string>) => loadSettings(env).tracing

describe('OTEL_* settings', () => {
  it('when nothing is set, then tracing is off with the service name config-service and OpenTelemetry defaults', () => {
    expect(tracing({})).toEqual({
      exporter: 'none',
      serviceName: 'config-service',
      otlpTracesUrl: undefined,
      jaegerAgentHost: undefined,
      jaegerAgentPort: undefined,
      jaegerEndpoint: undefined,
      batchDelayMs: 5000,
    })
  })

  it('when only the OTLP base endpoint is set, then traces go to its /v1/traces', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' }).otlpTracesUrl).toBe(
      'http://jaeger:4318/v1/traces',
    )
  })

  it('when the per-signal OTLP endpoint is set, then it is used as given, over the base one', () => {
    const settings = tracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
    })
    expect(settings.otlpTracesUrl).toBe('http://traces:4318/custom')
  })

  it('when the Jaeger variables are set, then they are read', () => {
    expect(
      tracing({
        OTEL_TRACES_EXPORTER: 'jaeger',
        OTEL_EXPORTER_JAEGER_AGENT_HOST: 'agent',
        OTEL_EXPORTER_JAEGER_AGENT_PORT: '6832',
        OTEL_EXPORTER_JAEGER_ENDPOINT: 'http://collector:14268/api/traces',
        OTEL_SERVICE_NAME: 'configs-eu',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    ).toMatchObject({
      exporter: 'jaeger',
      jaegerAgentHost: 'agent',
      jaegerAgentPort: 6832,
      jaegerEndpoint: 'http://collector:14268/api/traces',
      serviceName: 'configs-eu',
      batchDelayMs: 200,
    })
  })

  for (const [name, value] of [
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'jaeger:4318'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://x/v1/traces'],
    ['OTEL_EXPORTER_JAEGER_AGENT_PORT', '70000'],
    ['OTEL_EXPORTER_JAEGER_ENDPOINT', 'not a url'],
    ['OTEL_BSP_SCHEDULE_DELAY', 'soon'],
  ] as const) {
    it(`when ${name} is ${JSON.stringify(value)}, then start-up stops with an error naming it`, () => {
      expect(() => loadSettings({ [name]: value })).toThrow(SettingsError)
      expect(() => loadSettings({ [name]: value })).toThrow(name)
    })
  }

  it('when the settings are listed, then every OTEL_* variable read is among them', () => {
    expect(SETTING_NAMES).toEqual(
      expect.arrayContaining([
        'OTEL_TRACES_EXPORTER',
        'OTEL_SERVICE_NAME',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
        'OTEL_EXPORTER_JAEGER_AGENT_HOST',
        'OTEL_EXPORTER_JAEGER_AGENT_PORT',
        'OTEL_EXPORTER_JAEGER_ENDPOINT',
        'OTEL_BSP_SCHEDULE_DELAY',
      ]),
    )
  })
})
