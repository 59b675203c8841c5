import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { API_TOKEN_VERIFIER, type ApiTokenVerifier } from '../artifacts/artifact-requester';
import { AuditModule } from '../audit/audit.module';
import { AdminTokenBootstrap } from './admin-token-bootstrap';
import { ApiTokenGuard } from './api-token.guard';
import { ApiTokensRepository } from './api-tokens.repository';
import { ApiTokensService } from './api-tokens.service';
import { TokensController } from './tokens.controller';

/**
 * API tokens, the global guard that checks them, and the admin token bootstrap. Global so that routes which
 * authenticate on their own (device-facing artifact downloads) can verify tokens through `API_TOKEN_VERIFIER`.
 */
@Global()
@Module({
  imports: [AuditModule],
  controllers: [TokensController],
  providers: [
    ApiTokensRepository,
    ApiTokensService,
    AdminTokenBootstrap,
    { provide: APP_GUARD, useClass: ApiTokenGuard },
    {
      provide: API_TOKEN_VERIFIER,
      inject: [ApiTokensService],
      useFactory: (tokens: ApiTokensService): ApiTokenVerifier => ({
        verify: async (token) => {
          const authentication = await tokens.authenticate(token);
          return authentication.ok
            ? { role: authentication.principal.role, subject: `token:${authentication.principal.name}` }
            : undefined;
        },
      }),
    },
  ],
  exports: [ApiTokensService, AdminTokenBootstrap, API_TOKEN_VERIFIER],
})
export class AuthModule {}
