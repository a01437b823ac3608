import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  ClaimTokenCreatedSchema,
  type ClaimTokenCreateRequest,
  ClaimTokenCreateRequestSchema,
  ClaimTokenListResponseSchema,
  EnrollmentInfoSchema,
  type ProvisionRequest,
  ProvisionRequestSchema,
  ProvisionResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Public, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { ProvisioningException } from './provisioning.exception.js';
import { ProvisioningService } from './provisioning.service.js';

@ApiTags('provisioning')
@Controller('api/v1')
export class ProvisioningController {
  constructor(private readonly provisioning: ProvisioningService) {}

  @Post('claim-tokens')
  @Roles('admin')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'createClaimToken', summary: 'Create a claim token (shown once) (admin)' })
  @ApiZodBody('ClaimTokenCreateRequest', ClaimTokenCreateRequestSchema)
  @ApiZodResponse(201, 'ClaimTokenCreated', ClaimTokenCreatedSchema, 'Created')
  @ApiErrors(400)
  createToken(
    @Body(new ZodValidationPipe(ClaimTokenCreateRequestSchema)) body: ClaimTokenCreateRequest,
    @CurrentUser() user: AuthUser,
  ) {
    return this.provisioning.createToken(body, user.username);
  }

  @Get('claim-tokens')
  @Roles('admin')
  @ApiSignedIn()
  @ApiOperation({
    operationId: 'listClaimTokens',
    summary: 'List claim tokens, without their plaintext (admin)',
  })
  @ApiZodResponse(200, 'ClaimTokenListResponse', ClaimTokenListResponseSchema)
  listTokens() {
    return this.provisioning.listTokens();
  }

  @Delete('claim-tokens/:id')
  @Roles('admin')
  @HttpCode(204)
  @ApiSignedIn()
  @ApiOperation({ operationId: 'revokeClaimToken', summary: 'Revoke a claim token (admin)' })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Revoked' })
  @ApiErrors(400, 404)
  revokeToken(
    @Param(
      'id',
      new ParseUUIDPipe({
        exceptionFactory: () => new ProvisioningException('CLAIM_TOKEN_NOT_FOUND'),
      }),
    )
    id: string,
  ) {
    return this.provisioning.revokeToken(id);
  }

  @Public()
  @Post('provision')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'provision',
    summary: 'Enrol a box with a claim token; returns its MQTT credentials',
  })
  @ApiZodBody('ProvisionRequest', ProvisionRequestSchema)
  @ApiZodResponse(200, 'ProvisionResponse', ProvisionResponseSchema)
  @ApiErrors(400, 401)
  provision(@Body(new ZodValidationPipe(ProvisionRequestSchema)) body: ProvisionRequest) {
    return this.provisioning.provision(body);
  }

  @Get('enrollment')
  @Roles('admin')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'getEnrollment', summary: 'URLs for the "Add box" command (admin)' })
  @ApiZodResponse(200, 'EnrollmentInfo', EnrollmentInfoSchema)
  enrollment(@Req() request: FastifyRequest) {
    return this.provisioning.enrollment(request.headers.host, request.protocol);
  }
}
