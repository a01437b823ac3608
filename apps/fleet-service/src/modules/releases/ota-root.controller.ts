import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { OtaRootDtoSchema, SignedRootSchema } from '@agentbox/schemas';
import { CommonException } from '../../common/errors/domain-exception.js';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { CurrentUser, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { OtaTrustService } from './ota-trust.service.js';

@ApiTags('releases')
@ApiSignedIn()
@Controller('api/v1/ota/root')
export class OtaRootController {
  constructor(private readonly trust: OtaTrustService) {}

  @Get()
  @ApiOperation({ operationId: 'getOtaRoot', summary: 'The trusted OTA root metadata (latest version)' })
  @ApiZodResponse(200, 'OtaRootDto', OtaRootDtoSchema)
  @ApiErrors(404)
  async get() {
    const root = await this.trust.describe();
    if (!root) {
      throw new CommonException(
        'NOT_FOUND',
        'No trusted root yet: set AGENTBOX_OTA_ROOT_FILE or upload one with PUT /api/v1/ota/root',
      );
    }
    return root;
  }

  @Put()
  @Roles('admin')
  @ApiOperation({
    operationId: 'putOtaRoot',
    summary:
      'Trust the first root metadata (signed by its own root keys) or the next version (signed by the trusted and its own root keys) (admin)',
  })
  @ApiZodBody('SignedRoot', SignedRootSchema)
  @ApiZodResponse(200, 'OtaRootDto', OtaRootDtoSchema)
  @ApiErrors(400, 409)
  put(@Body() body: unknown, @CurrentUser() user: AuthUser) {
    // Validated in the service, which keeps the document as received: signatures cover its bytes.
    return this.trust.install(body, user.username, 'upload');
  }
}
