import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ReleaseDetailDtoSchema,
  ReleaseDtoSchema,
  ReleaseIdSchema,
  type ReleaseListQuery,
  ReleaseListQuerySchema,
  SignedReleaseSchema,
} from '@agentbox/schemas';
import { CommonException } from '../../common/errors/domain-exception.js';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Public, Roles, type AuthUser } from '../auth/auth.decorators.js';
import { parseRange } from './http-range.js';
import { ReleaseDownloadsService } from './release-downloads.service.js';
import { ReleasesService } from './releases.service.js';

const ReleaseIdPipe = new ZodValidationPipe(ReleaseIdSchema);
const DeviceQuerySchema = z.string().min(1).max(64).optional();

@ApiTags('releases')
@ApiSignedIn()
@Controller('api/v1/releases')
export class ReleasesController {
  constructor(
    private readonly releases: ReleasesService,
    private readonly downloads: ReleaseDownloadsService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listReleases', summary: 'Releases of the device agent, newest first' })
  @ApiQuery({ name: 'channel', required: false, type: String })
  @ApiQuery({ name: 'status', required: false, type: String })
  @ApiZodResponse(200, 'ReleaseDtoList', z.array(ReleaseDtoSchema))
  @ApiErrors(400)
  list(@Query(new ZodValidationPipe(ReleaseListQuerySchema)) query: ReleaseListQuery) {
    return this.releases.list(query);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({
    operationId: 'createRelease',
    summary:
      'Upload a signed release manifest; verified against the trusted root, it then awaits its bundle (admin)',
  })
  @ApiZodBody('SignedRelease', SignedReleaseSchema)
  @ApiZodResponse(201, 'ReleaseDto', ReleaseDtoSchema)
  @ApiErrors(400, 409)
  create(@Body() body: unknown, @CurrentUser() user: AuthUser) {
    // Validated in the service, which must keep the document as received: signatures cover its bytes.
    return this.releases.create(body, user.username);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getRelease', summary: 'One release with its signed manifest' })
  @ApiZodResponse(200, 'ReleaseDetailDto', ReleaseDetailDtoSchema)
  @ApiErrors(400, 404)
  get(@Param('id', ReleaseIdPipe) id: string) {
    return this.releases.get(id);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteRelease',
    summary: 'Delete a release no rollout uses, with its bundle (admin)',
  })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 404, 409)
  remove(@Param('id', ReleaseIdPipe) id: string, @CurrentUser() user: AuthUser) {
    return this.releases.remove(id, user.username);
  }

  @Get(':id/artifact')
  @Public()
  @ApiOperation({
    operationId: 'downloadReleaseArtifact',
    summary:
      "Download the bundle, with Range support; Bearer: the box's download token for this release, or an admin's token",
  })
  @ApiQuery({ name: 'device', required: false, type: String, description: 'the box the token was issued to' })
  @ApiResponse({ status: 200, description: 'The whole bundle' })
  @ApiResponse({ status: 206, description: 'The requested byte range' })
  @ApiResponse({ status: 416, description: 'Range outside the bundle' })
  @ApiErrors(400, 403, 404, 409)
  async download(
    @Param('id', ReleaseIdPipe) id: string,
    @Query('device', new ZodValidationPipe(DeviceQuerySchema)) device: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.downloads.authorizeArtifactRequest(request.headers.authorization, id, device);
    const artifact = await this.downloads.artifactOf(id);
    const etag = `"${artifact.sha256}"`;
    const ifRange = request.headers['if-range'];
    // A validator that no longer matches means the client's partial copy is of other bytes: send it all.
    const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
    const range = parseRange(rangeHeader, artifact.size);
    const opened =
      range === 'unsatisfiable' ? undefined : await this.downloads.openArtifact(artifact, range ?? undefined);
    void reply
      .header('accept-ranges', 'bytes')
      .header('etag', etag)
      .header('cache-control', 'private, max-age=0')
      .header('content-type', 'application/gzip')
      .header('content-disposition', `attachment; filename="${artifact.name}"`);
    if (range === 'unsatisfiable' || opened === undefined) {
      await reply.status(416).header('content-range', `bytes */${artifact.size}`).send();
      return;
    }
    if (range === null) {
      await reply.status(200).header('content-length', artifact.size).send(opened.body);
      return;
    }
    await reply
      .status(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${artifact.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(opened.body);
  }

  @Put(':id/artifact')
  @Roles('admin')
  @ApiOperation({
    operationId: 'uploadReleaseArtifact',
    summary:
      'Upload the bundle (raw application/octet-stream body); kept only when size and sha256 match (admin)',
  })
  @ApiConsumes('application/octet-stream')
  @ApiZodResponse(200, 'ReleaseDto', ReleaseDtoSchema)
  @ApiErrors(400, 404, 409, 415)
  upload(
    @Param('id', ReleaseIdPipe) id: string,
    @Req() request: FastifyRequest,
    @CurrentUser() user: AuthUser,
  ) {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') {
      throw new CommonException(
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the bundle as the raw body with Content-Type: application/octet-stream',
      );
    }
    const length = request.headers['content-length'];
    return this.releases.uploadArtifact(
      id,
      request.raw,
      length === undefined ? undefined : Number(length),
      user.username,
    );
  }
}
