import { Body, Controller, Delete, Get, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import {
  CreateEnrolmentTokenDto,
  CreatedEnrolmentTokenDto,
  EnrolmentTokenDto,
  EnrolmentTokenListDto,
  EnrolmentTokenListQueryDto,
} from './enrolment.dto';
import { EnrolmentTokensService } from './enrolment-tokens.service';

@ApiTags('enrolment')
@Controller('enrolment-tokens')
@RequireRole('operator')
export class EnrolmentTokensController {
  constructor(private readonly tokens: EnrolmentTokensService) {}

  @Get()
  @ApiOperation({ summary: 'List enrolment tokens (never their secrets)' })
  @ZodResponse({ type: EnrolmentTokenListDto })
  list(@Query() query: EnrolmentTokenListQueryDto): Promise<EnrolmentTokenListDto> {
    return this.tokens.list(query);
  }

  @Post()
  @ApiOperation({
    summary: 'Create an enrolment token (one-time by default); the secret is in this response only',
  })
  @ZodResponse({ status: 201, type: CreatedEnrolmentTokenDto })
  create(@Body() body: CreateEnrolmentTokenDto, @Req() request: Request): Promise<CreatedEnrolmentTokenDto> {
    return this.tokens.create(body, request.principal);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an enrolment token (devices enrolled with it keep their credentials)' })
  @ZodResponse({ type: EnrolmentTokenDto })
  revoke(@Param('id') id: string): Promise<EnrolmentTokenDto> {
    return this.tokens.revoke(id);
  }
}
