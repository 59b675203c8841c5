import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/roles';
import { ComponentHealthIndicator } from './component-health.indicator';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly components: ComponentHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Redis, MQTT and the database, each reported; 503 when one is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.components.redis(),
      () => this.components.mqtt(),
      () => this.components.database(),
    ]);
  }
}
