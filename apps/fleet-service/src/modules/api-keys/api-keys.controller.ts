import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiKeyCreatedDtoSchema,
  type ApiKeyCreateRequest,
  ApiKeyCreateRequestSchema,
  ApiKeyDtoSchema,
  ApiKeyIdSchema,
  ApiKeyListResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, PeopleOnly, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { ApiKeysService } from './api-keys.service.js';

@ApiTags('api-keys')
@ApiSignedIn()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: 'API keys, newest first, without their secrets (admin)',
  })
  @ApiZodResponse(200, 'ApiKeyListResponse', ApiKeyListResponseSchema)
  list() {
    return this.apiKeys.list();
  }

  @Post()
  @Roles('admin')
  @PeopleOnly()
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key; its secret is in this response only (admin, signed in)',
  })
  @ApiZodBody('ApiKeyCreateRequest', ApiKeyCreateRequestSchema)
  @ApiZodResponse(201, 'ApiKeyCreatedDto', ApiKeyCreatedDtoSchema, 'Created')
  @ApiErrors(400)
  create(
    @Body(new ZodValidationPipe(ApiKeyCreateRequestSchema)) body: ApiKeyCreateRequest,
    @CurrentUser() user: AuthUser,
  ) {
    return this.apiKeys.create(body, user);
  }

  @Post(':id/revoke')
  @Roles('admin')
  @PeopleOnly()
  @HttpCode(200)
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key at once (admin, signed in)' })
  @ApiZodResponse(200, 'ApiKeyDto', ApiKeyDtoSchema)
  @ApiErrors(400, 404)
  revoke(@Param('id', new ZodValidationPipe(ApiKeyIdSchema)) id: string, @CurrentUser() user: AuthUser) {
    return this.apiKeys.revoke(id, user);
  }
}
