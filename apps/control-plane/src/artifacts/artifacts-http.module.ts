import { Module } from '@nestjs/common';
import { ArtifactsController } from './artifacts.controller';

/** `GET /artifacts/:sha256` and `GET /signing-key` (api role). */
@Module({ controllers: [ArtifactsController] })
export class ArtifactsHttpModule {}
