import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommonException } from '../../common/errors/domain-exception.js';
import { Public } from '../auth/auth.decorators.js';
import { ConsoleService } from './console.service.js';

/**
 * SPA fallback: any GET that is not a static file of the console, an API route or an operational
 * endpoint gets index.html, so deep links into the console work on reload.
 */
@ApiExcludeController()
@Public()
@Controller()
export class ConsoleController {
  constructor(private readonly console: ConsoleService) {}

  @Get('*')
  async fallback(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const path = request.url.split('?')[0] ?? '/';
    if (this.console.isReserved(path)) {
      throw new CommonException('NOT_FOUND', `Cannot GET ${path.slice(0, 200)}`);
    }
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await this.console.indexHtml());
  }
}
