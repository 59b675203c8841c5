import { ConfigError, loadAppConfig } from './app-config';

describe('loadAppConfig', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({
      role: 'all',
      http: { host: '0.0.0.0', port: 3000 },
      databaseUrl: undefined,
      redisUrl: undefined,
      mqtt: { url: undefined, embeddedPort: 1883, topicPrefix: 'emofleet/v1' },
      dataDir: '.emofleet',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadAppConfig({ DATABASE_URL: '  ', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('reads every configured URL', () => {
    const config = loadAppConfig({
      EMOFLEET_ROLE: 'worker',
      DATABASE_URL: 'postgres://u:p@db:5432/emofleet',
      REDIS_URL: 'redis://redis:6379',
      MQTT_URL: 'mqtt://broker:1883',
      PORT: '8080',
    });
    expect(config.role).toBe('worker');
    expect(config.http.port).toBe(8080);
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/emofleet');
  });

  it('lists every bad key at once', () => {
    let caught: unknown;
    try {
      loadAppConfig({
        PORT: 'eighty',
        EMOFLEET_ROLE: 'janitor',
        REDIS_URL: 'http://redis:6379',
        MQTT_TOPIC_PREFIX: 'fleet/#',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^PORT="eighty"/m);
    expect(problems.join('\n')).toMatch(/^EMOFLEET_ROLE="janitor"/m);
    expect(problems.join('\n')).toMatch(/^REDIS_URL="http:\/\/redis:6379": must use one of redis:, rediss:/m);
    expect(problems.join('\n')).toMatch(/^MQTT_TOPIC_PREFIX="fleet\/#": contains an MQTT wildcard/m);
    expect((caught as ConfigError).message).toContain('invalid configuration');
  });
});
