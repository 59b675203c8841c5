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

describe('loadAppConfig: auth, TLS and broker accounts', () => {
  it('defaults to plain TCP and embedded broker accounts, unmanaged ones with MQTT_URL', () => {
    const embedded = loadAppConfig({});
    expect(embedded.tls).toBeUndefined();
    expect(embedded.adminToken).toBeUndefined();
    expect(embedded.mqtt).toMatchObject({ deviceCredentials: 'embedded', publicUrl: undefined });
    expect(loadAppConfig({ MQTT_URL: 'mqtt://broker:1883' }).mqtt.deviceCredentials).toBe('unmanaged');
  });

  it('reads the TLS files, the public broker URL and the admin token', () => {
    const config = loadAppConfig({
      TLS_CERT_FILE: '/tls/cert.pem',
      TLS_KEY_FILE: '/tls/key.pem',
      TLS_CA_FILE: '/tls/ca.pem',
      MQTT_PUBLIC_URL: 'mqtts://fleet.example.com:8883',
      EMOFLEET_ADMIN_TOKEN: 'x'.repeat(32),
      MQTT_URL: 'mqtt://cp:secret@broker:1883',
      MQTT_DEVICE_CREDENTIALS: 'mosquitto-dynsec',
    });
    expect(config.tls).toEqual({ certFile: '/tls/cert.pem', keyFile: '/tls/key.pem', caFile: '/tls/ca.pem' });
    expect(config.mqtt.publicUrl).toBe('mqtts://fleet.example.com:8883');
    expect(config.mqtt.deviceCredentials).toBe('mosquitto-dynsec');
    expect(config.adminToken).toBe('x'.repeat(32));
  });

  it('never echoes a bad admin token', () => {
    expect(() => loadAppConfig({ EMOFLEET_ADMIN_TOKEN: 'short-secret' })).toThrow(
      /EMOFLEET_ADMIN_TOKEN=\(hidden\): must be at least 32 characters/,
    );
    expect(() => loadAppConfig({ EMOFLEET_ADMIN_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('lists every inconsistent combination', () => {
    let caught: unknown;
    try {
      loadAppConfig({
        TLS_CERT_FILE: '/c.pem',
        TLS_CA_FILE: '/ca.pem',
        MQTT_DEVICE_CREDENTIALS: 'mosquitto-dynsec',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'TLS_KEY_FILE: must be set when TLS_CERT_FILE is',
      'MQTT_DEVICE_CREDENTIALS="mosquitto-dynsec": needs MQTT_URL (the Mosquitto to manage)',
    ]);
    expect(() => loadAppConfig({ MQTT_URL: 'mqtt://b:1883', MQTT_DEVICE_CREDENTIALS: 'embedded' })).toThrow(
      /only the embedded broker/,
    );
    expect(() => loadAppConfig({ TLS_KEY_FILE: '/k.pem' })).toThrow(
      /TLS_CERT_FILE: must be set when TLS_KEY_FILE is/,
    );
  });
});

describe('loadAppConfig: telemetry, events and webhooks', () => {
  it('defaults retention and delivery settings and reads overrides', () => {
    expect(loadAppConfig({})).toMatchObject({
      telemetry: {
        flushMaxRows: 1000,
        flushIntervalMs: 1000,
        rawRetentionHours: 48,
        rollup1mRetentionDays: 30,
        rollup1hRetentionDays: 400,
      },
      events: { retentionDays: 90 },
      webhooks: { deliveryAttempts: 6, backoffMs: 1000, timeoutMs: 10_000, disableAfterFailures: 20 },
    });
    expect(loadAppConfig({ EVENT_RETENTION_DAYS: '0', TELEMETRY_FLUSH_MAX_ROWS: '50' })).toMatchObject({
      events: { retentionDays: 0 },
      telemetry: { flushMaxRows: 50 },
    });
  });

  it('names every bad telemetry, event and webhook key', () => {
    let problems: readonly string[] = [];
    try {
      loadAppConfig({
        TELEMETRY_FLUSH_MAX_ROWS: '5000',
        EVENT_RETENTION_DAYS: '-1',
        WEBHOOK_DELIVERY_ATTEMPTS: '0',
        WEBHOOK_BACKOFF_MS: 'soon',
      });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split('=')[0])).toEqual([
      'TELEMETRY_FLUSH_MAX_ROWS',
      'EVENT_RETENTION_DAYS',
      'WEBHOOK_DELIVERY_ATTEMPTS',
      'WEBHOOK_BACKOFF_MS',
    ]);
  });
});

describe('loadAppConfig: database time limits', () => {
  const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
    try {
      loadAppConfig(env);
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('defaults to 30 s statements, 5 s more for the client, 30 s connection waits and 30 min maintenance', () => {
    expect(loadAppConfig({}).databaseTimeouts).toEqual({
      statementMs: 30_000,
      queryMs: 35_000,
      connectMs: 30_000,
      maintenanceStatementMs: 1_800_000,
    });
    expect(
      loadAppConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2000', DATABASE_CONNECT_TIMEOUT_MS: '800' })
        .databaseTimeouts,
    ).toEqual({ statementMs: 2000, queryMs: 7000, connectMs: 800, maintenanceStatementMs: 1_800_000 });
    expect(
      loadAppConfig({
        DATABASE_QUERY_TIMEOUT_MS: '60000',
        DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS: '40000',
      }).databaseTimeouts,
    ).toMatchObject({ queryMs: 60_000, maintenanceStatementMs: 40_000 });
  });

  it('names every bad time limit with the other bad keys', () => {
    expect(
      problemsOf({
        PORT: 'x',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        DATABASE_QUERY_TIMEOUT_MS: 'soon',
        DATABASE_CONNECT_TIMEOUT_MS: '-5',
        DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS: '1e12',
      }).map((problem) => problem.split('=')[0]),
    ).toEqual([
      'PORT',
      'DATABASE_STATEMENT_TIMEOUT_MS',
      'DATABASE_QUERY_TIMEOUT_MS',
      'DATABASE_CONNECT_TIMEOUT_MS',
      'DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS',
    ]);
  });

  it('refuses a client limit not above the statement limit and a maintenance limit below it', () => {
    expect(
      problemsOf({
        DATABASE_STATEMENT_TIMEOUT_MS: '10000',
        DATABASE_QUERY_TIMEOUT_MS: '10000',
        DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS: '5000',
      }).map((problem) => problem.split('=')[0]),
    ).toEqual(['DATABASE_QUERY_TIMEOUT_MS', 'DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS']);
  });
});
