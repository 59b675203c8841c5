import { Body, Controller, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../auth/roles';
import { EnrolRequestDto, EnrolResponseDto } from './enrolment.dto';
import { EnrolmentService } from './enrolment.service';

/** Device-facing: public for the API token guard, since the enrolment token in the body is the credential. */
@ApiTags('enrolment')
@Controller('enrol')
export class EnrolController {
  constructor(private readonly enrolment: EnrolmentService) {}

  @Post()
  @Public()
  @ApiOperation({
    summary: 'Enrol a device with an enrolment token: returns its id, secret (once), broker and keys to pin',
    description: 'Unknown token: 401. Revoked, expired or used-up token: 410.',
  })
  @ZodResponse({ status: 201, type: EnrolResponseDto })
  enrol(@Body() body: EnrolRequestDto): Promise<EnrolResponseDto> {
    return this.enrolment.enrol(body);
  }
}
