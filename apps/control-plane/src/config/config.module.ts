import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type AppConfig } from './app-config';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Provides the validated configuration and the resolved infrastructure to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, infrastructure: Infrastructure): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: INFRASTRUCTURE, useValue: infrastructure },
      ],
      exports: [APP_CONFIG, INFRASTRUCTURE],
    };
  }
}
