import { z } from 'zod';
import { NameSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';

/** Roles in increasing power: each role may do everything the ones before it may. */
export const USER_ROLES = ['viewer', 'operator', 'admin'] as const;
export const UserRoleSchema = z.enum(USER_ROLES);
export type UserRole = z.infer<typeof UserRoleSchema>;

export function roleAtLeast(actual: UserRole, required: UserRole): boolean {
  return USER_ROLES.indexOf(actual) >= USER_ROLES.indexOf(required);
}

export const LoginRequestSchema = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1_000),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const UserDtoSchema = z.object({
  username: z.string(),
  role: UserRoleSchema,
});
export type UserDto = z.infer<typeof UserDtoSchema>;

export const LoginResponseSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  /** Seconds until the token expires. */
  expiresIn: z.number().int().positive(),
  user: UserDtoSchema,
});
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

const PasswordSchema = z.string().min(8).max(1_000);

export const UserCreateRequestSchema = z.object({
  username: NameSchema.regex(
    /^[A-Za-z0-9._@-]+$/,
    'username may hold only A-Z, a-z, 0-9, ".", "_", "@" and "-"',
  ),
  password: PasswordSchema,
  role: UserRoleSchema,
});
export type UserCreateRequest = z.infer<typeof UserCreateRequestSchema>;

/** A user as admins manage it; `disabledAt` set means the user can neither sign in nor use a session. */
export const UserAccountDtoSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: UserRoleSchema,
  disabledAt: IsoTimestampSchema.nullable(),
  createdAt: IsoTimestampSchema,
});
export type UserAccountDto = z.infer<typeof UserAccountDtoSchema>;

export const UserListResponseSchema = z.object({ items: z.array(UserAccountDtoSchema) });
export type UserListResponse = z.infer<typeof UserListResponseSchema>;

/** A role change, disabling (`disabled: true`) or enabling again; at least one of them. */
export const UserUpdateRequestSchema = z
  .object({ role: UserRoleSchema.optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((body) => body.role !== undefined || body.disabled !== undefined, {
    message: 'give role, disabled or both',
  });
export type UserUpdateRequest = z.infer<typeof UserUpdateRequestSchema>;

/** The generated password of an admin's reset, shown once. */
export const UserPasswordResetResponseSchema = z.object({ password: z.string() });
export type UserPasswordResetResponse = z.infer<typeof UserPasswordResetResponseSchema>;

export const PasswordChangeRequestSchema = z.object({
  currentPassword: z.string().min(1).max(1_000),
  newPassword: PasswordSchema,
});
export type PasswordChangeRequest = z.infer<typeof PasswordChangeRequestSchema>;

/**
 * A short-lived ticket for the live stream (`GET /api/v1/live?ticket=`): EventSource cannot send headers,
 * and a URL ends up in proxy logs and histories, so it carries this instead of the 12-hour login token.
 */
export const StreamTicketResponseSchema = z.object({
  ticket: z.string(),
  /** Seconds the ticket can open a stream for. */
  expiresIn: z.number().int().positive(),
});
export type StreamTicketResponse = z.infer<typeof StreamTicketResponseSchema>;
