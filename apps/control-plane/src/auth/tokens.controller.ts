import { Body, Controller, Delete, Get, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import {
  ApiTokenDto,
  ApiTokenListDto,
  ApiTokenListQueryDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
} from './api-token.dto';
import { ApiTokensService } from './api-tokens.service';
import { RequireRole } from './roles';

@ApiTags('tokens')
@Controller('tokens')
@RequireRole('admin')
export class TokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  @ZodResponse({ type: ApiTokenListDto })
  list(@Query() query: ApiTokenListQueryDto): Promise<ApiTokenListDto> {
    return this.tokens.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create an API token; the secret is in this response only' })
  @ZodResponse({ status: 201, type: CreatedApiTokenDto })
  create(@Body() body: CreateApiTokenDto, @Req() request: Request): Promise<CreatedApiTokenDto> {
    return this.tokens.create(body, request.principal);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an API token (409 for the last usable admin token)' })
  @ZodResponse({ type: ApiTokenDto })
  revoke(@Param('id') id: string): Promise<ApiTokenDto> {
    return this.tokens.revoke(id);
  }
}
