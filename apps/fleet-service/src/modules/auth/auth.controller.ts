import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  type LoginRequest,
  LoginRequestSchema,
  LoginResponseSchema,
  type PasswordChangeRequest,
  PasswordChangeRequestSchema,
  StreamTicketResponseSchema,
  UserDtoSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, PeopleOnly, Public, type AuthUser } from './auth.decorators.js';
import { AuthService } from './auth.service.js';

@ApiTags('auth')
@Controller('api/v1')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  @ApiOperation({ operationId: 'login', summary: 'Exchange username and password for a bearer token' })
  @ApiZodBody('LoginRequest', LoginRequestSchema)
  @ApiZodResponse(200, 'LoginResponse', LoginResponseSchema)
  @ApiErrors(400, 401, 403, 429)
  login(@Body(new ZodValidationPipe(LoginRequestSchema)) body: LoginRequest, @Req() request: FastifyRequest) {
    return this.auth.login(body, request.ip);
  }

  @Post('auth/password')
  @HttpCode(200)
  @PeopleOnly()
  @ApiSignedIn()
  @ApiOperation({
    operationId: 'changePassword',
    summary:
      'Change your own password, given the current one; ends your other sessions and returns a new one',
  })
  @ApiZodBody('PasswordChangeRequest', PasswordChangeRequestSchema)
  @ApiZodResponse(200, 'LoginResponse', LoginResponseSchema)
  @ApiErrors(400, 403, 429)
  changePassword(
    @Body(new ZodValidationPipe(PasswordChangeRequestSchema)) body: PasswordChangeRequest,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
  ) {
    return this.auth.changePassword(user, body, request.ip);
  }

  @Get('auth/me')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'me', summary: 'The signed-in user' })
  @ApiZodResponse(200, 'UserDto', UserDtoSchema)
  me(@CurrentUser() user: AuthUser) {
    return this.auth.me(user);
  }

  @Post('auth/stream-ticket')
  @HttpCode(200)
  @PeopleOnly()
  @ApiSignedIn()
  @ApiOperation({
    operationId: 'createStreamTicket',
    summary: 'A ticket valid for 60 s to open the live stream (GET /api/v1/live?ticket=); people only',
  })
  @ApiZodResponse(200, 'StreamTicketResponse', StreamTicketResponseSchema)
  @ApiErrors(403)
  streamTicket(@CurrentUser() user: AuthUser) {
    return this.auth.issueStreamTicket(user);
  }
}
