import { type INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger/dist/constants';

type PropertyMetadata = Record<string, unknown>;
interface ZodDtoClass {
  _OPENAPI_METADATA_FACTORY(): Record<string, PropertyMetadata>;
}

const NORMALISED = Symbol('emofleet:nullable-fields-normalised');

/**
 * Works around nestjs-zod 5.5 with zod ≥ 4.5 (nestjs-zod issues #473 and #474): zod now writes a bare nullable
 * field (`z.string().nullable()`) as `type: ["string", "null"]`, which @nestjs/swagger reads as an *array of
 * strings*, and which OpenAPI 3.0 does not allow nested either. The DTOs' metadata is rewritten to the
 * `anyOf: [{ type }, { type: "null" }]` form zod wrote before 4.5, which nestjs-zod turns into
 * `nullable: true`. Applied once per DTO class of the routes' parameters and responses, before the document is
 * built. Remove when nestjs-zod handles the shorthand.
 */
export function normaliseNullableDtoFields(app: INestApplication): void {
  for (const dto of routeDtoClasses(app)) {
    if ((dto as unknown as Record<symbol, boolean>)[NORMALISED]) continue;
    const original = dto._OPENAPI_METADATA_FACTORY.bind(dto);
    dto._OPENAPI_METADATA_FACTORY = () =>
      Object.fromEntries(
        Object.entries(original()).map(([name, property]) => [
          name,
          normaliseSchema(property) as PropertyMetadata,
        ]),
      );
    Object.defineProperty(dto, NORMALISED, { value: true });
  }
}

/** `type: [t, "null"]` anywhere in a schema → `anyOf: [{ type: t }, { type: "null" }]` (empty `type` at the top). */
export function normaliseSchema(schema: unknown, topLevel = true): unknown {
  if (Array.isArray(schema)) return (schema as unknown[]).map((item) => normaliseSchema(item, false));
  if (typeof schema !== 'object' || schema === null) return schema;
  const entries = Object.entries(schema as Record<string, unknown>).map(([key, value]) => [
    key,
    key === 'type' ? value : normaliseSchema(value, false),
  ]);
  const result = Object.fromEntries(entries) as Record<string, unknown>;
  const type = result.type;
  if (!Array.isArray(type) || !type.includes('null')) return result;
  const types = type.filter((entry): entry is string => typeof entry === 'string' && entry !== 'null');
  const { type: _replaced, ...rest } = result;
  return {
    ...rest,
    // nestjs-zod reads an empty top-level type (with its empty-type marker) as "described by anyOf".
    ...(topLevel ? { type: '' } : {}),
    anyOf: [...types.map((entry) => ({ type: entry })), { type: 'null' }],
  };
}

function isZodDto(value: unknown): value is ZodDtoClass {
  return (
    typeof value === 'function' &&
    typeof (value as Partial<ZodDtoClass>)._OPENAPI_METADATA_FACTORY === 'function'
  );
}

/** The DTO classes the routes take (body, query, params) and answer with (`@ZodResponse`). */
function routeDtoClasses(app: INestApplication): Set<ZodDtoClass> {
  const classes = new Set<ZodDtoClass>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const controller of module.controllers.values()) {
      const type = controller.metatype as { prototype: Record<string, unknown> } | null;
      if (!type) continue;
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler = type.prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const parameters: unknown = Reflect.getMetadata('design:paramtypes', type.prototype, name);
        if (Array.isArray(parameters))
          for (const parameter of parameters) if (isZodDto(parameter)) classes.add(parameter);
        const responses: unknown = Reflect.getMetadata(DECORATORS.API_RESPONSE, handler);
        for (const response of Object.values((responses ?? {}) as Record<string, { type?: unknown }>)) {
          const responseTypes: unknown[] = Array.isArray(response.type) ? response.type : [response.type];
          for (const responseType of responseTypes) if (isZodDto(responseType)) classes.add(responseType);
        }
      }
    }
  }
  return classes;
}
