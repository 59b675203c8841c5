import { getQueueToken } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { API_TOKEN_VERIFIER, type ApiTokenVerifier } from '../artifacts/artifact-requester';
import { engineBuildQueue } from '../engines/engines.module';
import { EngineBuildQueue } from '../engines/engine-build-queue';
import { PipelineModule } from './pipeline.module';
import { PipelineQueue } from './pipeline-queues';

export const QUEUE_DASHBOARD_PATH = '/queues';

/**
 * Admin-only gate in front of Bull Board. Bull Board is an Express router mounted as middleware, which runs
 * before Nest's guards, so it checks the bearer token itself (through the auth module's verifier).
 */
@Injectable()
export class AdminOnlyMiddleware implements NestMiddleware {
  constructor(@Inject(API_TOKEN_VERIFIER) private readonly tokens: ApiTokenVerifier) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.get('authorization') ?? '')?.[1];
    const refuse = (status: number, message: string) =>
      response
        .status(status)
        .json({ error: { status, code: status === 401 ? 'unauthorized' : 'forbidden', message } });
    if (bearer === undefined) {
      refuse(401, 'the queue dashboard needs an admin API token (Authorization: Bearer)');
      return;
    }
    this.tokens.verify(bearer).then(
      (principal) => {
        if (!principal) refuse(401, 'the API token was not accepted');
        else if (principal.role !== 'admin')
          refuse(403, `the queue dashboard needs the admin role, not ${principal.role}`);
        else next();
      },
      (error: unknown) => next(error),
    );
  }
}

/** Bull Board over the pipeline queues (convert, benchmark, engine-build) at `/queues` (api role, admins only). */
@Module({ imports: [PipelineModule, engineBuildQueue], providers: [AdminOnlyMiddleware] })
export class QueueDashboardModule implements NestModule {
  constructor(
    @Inject(getQueueToken(PipelineQueue.Convert)) private readonly convert: Queue,
    @Inject(getQueueToken(PipelineQueue.Benchmark)) private readonly benchmark: Queue,
    @Inject(getQueueToken(EngineBuildQueue.Builds)) private readonly engineBuild: Queue,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [
        new BullMQAdapter(this.convert),
        new BullMQAdapter(this.benchmark),
        new BullMQAdapter(this.engineBuild),
      ],
      serverAdapter,
    });
    consumer
      .apply(
        AdminOnlyMiddleware,
        serverAdapter.getRouter() as (request: Request, response: Response, next: NextFunction) => void,
      )
      .forRoutes(QUEUE_DASHBOARD_PATH);
  }
}
