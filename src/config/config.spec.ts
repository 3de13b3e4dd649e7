import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.BATCHING_ENABLED).toBe(true);
    expect(config.PRIVACY_DROP_FIELDS).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('converts numbers, booleans and lists from strings', () => {
    const config = loadConfig({
      PORT: '9000',
      BATCHING_ENABLED: 'false',
      PRIVACY_HASH_FIELDS: 'age, annual_income',
    });
    expect(config.PORT).toBe(9000);
    expect(config.BATCHING_ENABLED).toBe(false);
    expect(config.PRIVACY_HASH_FIELDS).toEqual(['age', 'annual_income']);
  });

  it("reads the span processor's OTEL_BSP_* settings, with OpenTelemetry's defaults", () => {
    expect(loadConfig({})).toMatchObject({
      OTEL_BSP_MAX_QUEUE_SIZE: 2048,
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 512,
      OTEL_BSP_SCHEDULE_DELAY: 5000,
    });
    expect(loadConfig({ OTEL_BSP_SCHEDULE_DELAY: '50' }).OTEL_BSP_SCHEDULE_DELAY).toBe(50);
    expect(() => loadConfig({ OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
  });

  it('lists every bad variable in one error', () => {
    let thrown: unknown;
    try {
      loadConfig({ PORT: 'eighty', BATCH_MAX_SIZE: '0', LOG_LEVEL: 'loud', ADMIN_TOKEN: 'short' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'BATCH_MAX_SIZE', 'LOG_LEVEL', 'ADMIN_TOKEN'])
      expect(problems).toContain(name);
  });
});
