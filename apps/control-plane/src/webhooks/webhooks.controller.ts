import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import {
  CreateWebhookDto,
  DeliveryListDto,
  DeliveryListQueryDto,
  WebhookDto,
  WebhookListDto,
} from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@Controller('webhooks')
@RequireRole('operator')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary:
      'Register a webhook: URL, signing secret and event filter; it receives events stored from now on',
  })
  @ZodResponse({ status: 201, type: WebhookDto })
  create(@Body() body: CreateWebhookDto, @Req() request: Request): Promise<WebhookDto> {
    return this.webhooks.create(body, request.principal?.name);
  }

  @Get()
  @ApiOperation({ summary: 'Every webhook, with its state (disabled ones show why)' })
  @ZodResponse({ type: WebhookListDto })
  list(): Promise<WebhookListDto> {
    return this.webhooks.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook' })
  @ZodResponse({ type: WebhookDto })
  get(@Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "A webhook's delivery log, newest first" })
  @ZodResponse({ type: DeliveryListDto })
  deliveries(@Param('id') id: string, @Query() query: DeliveryListQueryDto): Promise<DeliveryListDto> {
    return this.webhooks.deliveries(id, query);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-enable a webhook (clears the failure count and reason)' })
  @ZodResponse({ type: WebhookDto })
  enable(@Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.enable(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its delivery log' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.webhooks.delete(id);
  }
}
