import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import { AuditListDto, AuditListQueryDto } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit')
@Controller('audit')
@RequireRole('admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit log of mutating calls, newest first (cursor pagination, filters)' })
  @ZodResponse({ type: AuditListDto })
  list(@Query() query: AuditListQueryDto): Promise<AuditListDto> {
    return this.audit.list(query);
  }
}
