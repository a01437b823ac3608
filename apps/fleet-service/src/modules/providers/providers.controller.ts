import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ProviderCreateRequestSchema,
  ProviderDtoSchema,
  ProviderIdSchema,
  ProviderUpdateRequestSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { Roles } from '../auth/auth.decorators.js';
import { ProvidersService } from './providers.service.js';

const ProviderIdPipe = new ZodValidationPipe(ProviderIdSchema);

@ApiTags('providers')
@ApiSignedIn()
@Controller('api/v1/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Get()
  @ApiOperation({ operationId: 'listProviders', summary: 'Model providers (API keys are never returned)' })
  @ApiZodResponse(200, 'ProviderDtoList', z.array(ProviderDtoSchema))
  list() {
    return this.providers.list();
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ operationId: 'createProvider', summary: 'Define a model provider (admin)' })
  @ApiZodBody('ProviderCreateRequest', ProviderCreateRequestSchema)
  @ApiZodResponse(201, 'ProviderDto', ProviderDtoSchema)
  @ApiErrors(400, 409)
  create(
    @Body(new ZodValidationPipe(ProviderCreateRequestSchema))
    body: z.output<typeof ProviderCreateRequestSchema>,
  ) {
    return this.providers.create(body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getProvider', summary: 'One model provider' })
  @ApiZodResponse(200, 'ProviderDto', ProviderDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', ProviderIdPipe) id: string) {
    return this.providers.get(id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({
    operationId: 'updateProvider',
    summary: 'Change a provider (version + 1; apiKey null removes the key, absent keeps it) (admin)',
  })
  @ApiZodBody('ProviderUpdateRequest', ProviderUpdateRequestSchema)
  @ApiZodResponse(200, 'ProviderDto', ProviderDtoSchema)
  @ApiErrors(400, 404)
  update(
    @Param('id', ProviderIdPipe) id: string,
    @Body(new ZodValidationPipe(ProviderUpdateRequestSchema))
    body: z.output<typeof ProviderUpdateRequestSchema>,
  ) {
    return this.providers.update(id, body);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteProvider', summary: 'Delete a provider no agent uses (admin)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404, 409)
  remove(@Param('id', ProviderIdPipe) id: string) {
    return this.providers.remove(id);
  }
}
