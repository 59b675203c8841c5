import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  Post,
  Query,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import {
  ApiTokenDto,
  ApiTokenListDto,
  ApiTokenListQueryDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  CurrentTokenDto,
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

  @Get('current')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'The token of this request: its id, name and role (any role may ask)' })
  @ZodResponse({ type: CurrentTokenDto })
  current(@Req() request: Request): CurrentTokenDto {
    // The guard sets the principal on every route that needs a role; its absence is a wiring error.
    if (!request.principal) throw new UnauthorizedException('this route needs an API token');
    return request.principal;
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
