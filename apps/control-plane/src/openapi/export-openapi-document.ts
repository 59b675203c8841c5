import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { type OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../app.module';
import { loadAppConfig } from '../config/app-config';
import { type Infrastructure } from '../infra/infrastructure';
import { createOpenApiDocument } from './openapi-document';

const notStarted = (what: string): never => {
  throw new Error(`exporting the OpenAPI document starts no infrastructure (${what} was used)`);
};

/** Stands in for the infrastructure: preview mode creates no provider, so none of it is ever read. */
const infrastructureNotStarted: Infrastructure = {
  get database() {
    return notStarted('database');
  },
  get redisUrl() {
    return notStarted('redisUrl');
  },
  get mqttUrl() {
    return notStarted('mqttUrl');
  },
  embeddedBroker: undefined,
  mqttAccount: undefined,
  tls: undefined,
  stop: () => Promise.resolve(),
};

/**
 * The OpenAPI document of the API role without starting anything: Nest's preview mode scans the modules and
 * controllers but instantiates no provider, so no database, Redis or broker is needed (the dashboard build
 * generates its API types from this). The dashboard's end-to-end test checks it equals the served `/docs-json`.
 */
export async function exportOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadAppConfig({ EMOFLEET_ROLE: 'api', LOG_LEVEL: 'silent' });
  const app = await NestFactory.create(AppModule.forRoot(config, infrastructureNotStarted), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
