import { Module } from '@nestjs/common';
import { BrokerAuthModule } from '../broker-auth/broker-auth.module';
import { EnrolController } from './enrol.controller';
import { EnrolmentRepository } from './enrolment.repository';
import { EnrolmentService } from './enrolment.service';
import { EnrolmentTokensController } from './enrolment-tokens.controller';
import { EnrolmentTokensService } from './enrolment-tokens.service';

/** Enrolment tokens and `POST /enrol` (api role). */
@Module({
  imports: [BrokerAuthModule],
  controllers: [EnrolmentTokensController, EnrolController],
  providers: [EnrolmentRepository, EnrolmentService, EnrolmentTokensService],
  exports: [EnrolmentService, EnrolmentTokensService],
})
export class EnrolmentModule {}
