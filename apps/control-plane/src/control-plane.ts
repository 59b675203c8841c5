import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { type Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { type AdminTokenBootstrapResult, AdminTokenBootstrap } from './auth/admin-token-bootstrap';
import { type AppConfig, runsApi } from './config/app-config';
import { startInfrastructure, type Infrastructure } from './infra/infrastructure';
import { MqttAdapter } from './messaging/mqtt.adapter';
import { createOpenApiDocument } from './openapi/openapi-document';

export interface RunningControlPlane {
  app: INestApplication;
  infrastructure: Infrastructure;
  /** The base URL of the HTTP API (also served by the worker role, for /health); https with TLS. */
  httpUrl: string;
  /** Drains MQTT, closes queues and the database, stops embedded services. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Boots the control plane for `config`: resolves the infrastructure, starts Nest, connects MQTT, listens.
 * Used by `main.ts` and by the integration tests (with their own ports and prefixes).
 */
export async function startControlPlane(
  config: AppConfig,
  bootLog: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningControlPlane> {
  const infrastructure = await startInfrastructure(config, bootLog);
  let app: INestApplication | undefined;
  try {
    const { tls } = infrastructure;
    app = await NestFactory.create(AppModule.forRoot(config, infrastructure), {
      bufferLogs: true,
      // A boot failure (e.g. a missing provider) is thrown to the caller instead of exiting the process.
      abortOnError: false,
      // With TLS_CERT_FILE/TLS_KEY_FILE the API serves https only; plain http stays the local default.
      ...(tls ? { httpsOptions: { cert: tls.cert, key: tls.key } } : {}),
    });
    app.useLogger(app.get(Logger));
    await app.get(MqttAdapter).connect();
    if (runsApi(config.role))
      announceAdminToken(await app.get(AdminTokenBootstrap).ensureAdminToken(), bootLog);
    SwaggerModule.setup('docs', app, createOpenApiDocument(app));
    keepIdleConnectionsLonger(app.getHttpServer() as Server);
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await infrastructure.stop();
    throw error;
  }
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  let closing: Promise<void> | undefined;
  const started = app;
  return {
    app: started,
    infrastructure,
    httpUrl: `${infrastructure.tls ? 'https' : 'http'}://${host}:${port}`,
    close: () => {
      closing ??= started.close().finally(() => infrastructure.stop());
      return closing;
    },
  };
}

/**
 * How long the API keeps an idle keep-alive connection. Node's default (5 s) is shorter than the idle timeout of
 * load balancers (60 s on the common ones) and close to that of HTTP clients (undici: the server's hint minus 1 s),
 * so a client could send a request on a connection the server was closing at that moment and get ECONNRESET.
 */
const HTTP_KEEP_ALIVE_MS = 65_000;

function keepIdleConnectionsLonger(server: Server): void {
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
  // A request's headers must be allowed at least as long as the connection may idle before them.
  server.headersTimeout = HTTP_KEEP_ALIVE_MS + 1000;
}

function announceAdminToken(result: AdminTokenBootstrapResult, bootLog: (line: string) => void): void {
  switch (result.source) {
    case 'configured':
      bootLog('api tokens: admin token from EMOFLEET_ADMIN_TOKEN');
      return;
    case 'existing':
      return;
    case 'generated':
      bootLog(
        `api tokens: no usable admin token existed, created one (shown only now; also in ${result.file}, ` +
          `mode 0600):\n\n    ${result.token}\n\n  use it with \`emofleet login --token <token>\` and create ` +
          'personal tokens with `emofleet tokens create`',
      );
      return;
  }
}
