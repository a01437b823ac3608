import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  type UserCreateRequest,
  UserCreateRequestSchema,
  UserAccountDtoSchema,
  UserListResponseSchema,
  UserPasswordResetResponseSchema,
  type UserUpdateRequest,
  UserUpdateRequestSchema,
} from '@agentbox/schemas';
import { ApiErrors, ApiSignedIn, ApiZodBody, ApiZodResponse } from '../../common/openapi/zod-openapi.js';
import { ZodValidationPipe } from '../../common/validation/zod-validation.pipe.js';
import { CurrentUser, PeopleOnly, Roles, type AuthUser } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { UsersService } from './users.service.js';

/** An id that is no UUID names no user: 404, as an unknown one. */
const UserIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => new AuthException('USER_NOT_FOUND', 'User not found'),
});

@ApiTags('auth')
@ApiSignedIn()
@Roles('admin')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ operationId: 'listUsers', summary: 'List users (admin)' })
  @ApiZodResponse(200, 'UserListResponse', UserListResponseSchema)
  listUsers() {
    return this.users.listUsers();
  }

  @Post()
  @PeopleOnly()
  @ApiOperation({ operationId: 'createUser', summary: 'Create a user (admin)' })
  @ApiZodBody('UserCreateRequest', UserCreateRequestSchema)
  @ApiZodResponse(201, 'UserAccountDto', UserAccountDtoSchema, 'Created')
  @ApiErrors(400, 409)
  createUser(@Body(new ZodValidationPipe(UserCreateRequestSchema)) body: UserCreateRequest) {
    return this.users.createUser(body);
  }

  @Patch(':id')
  @PeopleOnly()
  @ApiOperation({
    operationId: 'updateUser',
    summary:
      'Change a user’s role, disable or enable them; never the last enabled admin, never yourself disabled (admin)',
  })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiZodBody('UserUpdateRequest', UserUpdateRequestSchema)
  @ApiZodResponse(200, 'UserAccountDto', UserAccountDtoSchema)
  @ApiErrors(400, 404, 409)
  updateUser(
    @Param('id', UserIdPipe) id: string,
    @Body(new ZodValidationPipe(UserUpdateRequestSchema)) body: UserUpdateRequest,
    @CurrentUser() actor: AuthUser,
  ) {
    return this.users.updateUser(id, body, actor);
  }

  @Delete(':id')
  @PeopleOnly()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteUser',
    summary: 'Delete a user; never the last enabled admin, never yourself (admin)',
  })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(404, 409)
  deleteUser(@Param('id', UserIdPipe) id: string, @CurrentUser() actor: AuthUser) {
    return this.users.deleteUser(id, actor);
  }

  @Post(':id/password-reset')
  @PeopleOnly()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'resetUserPassword',
    summary: 'Give a user a generated password, shown once, and end their sessions (admin)',
  })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiZodResponse(200, 'UserPasswordResetResponse', UserPasswordResetResponseSchema)
  @ApiErrors(404)
  resetPassword(@Param('id', UserIdPipe) id: string) {
    return this.users.resetPassword(id);
  }
}
