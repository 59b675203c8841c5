import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { DashboardAssetsMiddleware } from './dashboard-assets.middleware';

/** The fleet dashboard (apps/dashboard) at `/` (api role). */
@Module({ providers: [DashboardAssetsMiddleware] })
export class FleetDashboardModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // `{*path}` (path-to-regexp 8) also matches `/`, which `*path` does not.
    consumer.apply(DashboardAssetsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.GET });
  }
}
