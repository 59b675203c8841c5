import { type INestApplication, RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { normaliseNullableDtoFields } from './nullable-dto-fields';

/**
 * The control plane's OpenAPI document, built from the controllers and zod DTOs of `app`. Served at `/docs`
 * (JSON at `/docs-json`) and exported at build time for the dashboard's generated API types.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  normaliseNullableDtoFields(app);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('emofleet control plane')
      .setDescription('Devices, models, rollouts, telemetry and emotion events of a Jetson fleet')
      .setVersion('1')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        description: 'An API token (`emofleet tokens create`)',
      })
      .addSecurityRequirements('bearer')
      .build(),
  );
  return documentSuccessStatuses(cleanupOpenApiDoc(document), successStatuses(app));
}

/**
 * `@ZodResponse` without a status documents the answer as the `default` response, which OpenAPI clients read as
 * the error shape. The answer is sent with the handler's status (its `@HttpCode`, else Nest's 201 for POST and
 * 200 otherwise), so the document says that status instead.
 */
function documentSuccessStatuses(
  document: OpenAPIObject,
  statuses: ReadonlyMap<string, number>,
): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of [pathItem.get, pathItem.put, pathItem.post, pathItem.patch, pathItem.delete]) {
      if (operation === undefined || operation.operationId === undefined) continue;
      const { responses } = operation;
      const success = responses.default as unknown;
      if (success === undefined || Object.keys(responses).some((status) => status.startsWith('2'))) continue;
      const status = statuses.get(operation.operationId);
      if (status === undefined) continue;
      delete responses.default;
      responses[String(status)] = success as (typeof responses)[string];
    }
  }
  return document;
}

/** The status each handler answers with, by operation id (`<Controller>_<method>`, as @nestjs/swagger names them). */
function successStatuses(app: INestApplication): Map<string, number> {
  const statuses = new Map<string, number>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const controller of module.controllers.values()) {
      const type = controller.metatype as { name: string; prototype: Record<string, unknown> } | null;
      if (!type) continue;
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler = type.prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const code: unknown = Reflect.getMetadata(HTTP_CODE_METADATA, handler);
        const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
        if (method === undefined) continue;
        statuses.set(
          `${type.name}_${name}`,
          typeof code === 'number' ? code : method === RequestMethod.POST ? 201 : 200,
        );
      }
    }
  }
  return statuses;
}
