import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  type LoginRequest,
  LoginRequestSchema,
  LoginResponseSchema,
  type UserCreateRequest,
  UserCreateRequestSchema,
  UserDtoSchema,
  UserListResponseSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, Public, Roles, type AuthUser } from './auth.decorators.js';
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
  @ApiErrors(400, 401, 429)
  login(@Body(new ZodValidationPipe(LoginRequestSchema)) body: LoginRequest, @Req() request: FastifyRequest) {
    return this.auth.login(body, request.ip);
  }

  @Get('auth/me')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'me', summary: 'The signed-in user' })
  @ApiZodResponse(200, 'UserDto', UserDtoSchema)
  me(@CurrentUser() user: AuthUser) {
    return this.auth.me(user);
  }

  @Get('users')
  @Roles('admin')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'listUsers', summary: 'List users (admin)' })
  @ApiZodResponse(200, 'UserListResponse', UserListResponseSchema)
  listUsers() {
    return this.auth.listUsers();
  }

  @Post('users')
  @Roles('admin')
  @ApiSignedIn()
  @ApiOperation({ operationId: 'createUser', summary: 'Create a user (admin)' })
  @ApiZodBody('UserCreateRequest', UserCreateRequestSchema)
  @ApiZodResponse(201, 'UserDto', UserDtoSchema, 'Created')
  @ApiErrors(400, 409)
  createUser(@Body(new ZodValidationPipe(UserCreateRequestSchema)) body: UserCreateRequest) {
    return this.auth.createUser(body);
  }
}
