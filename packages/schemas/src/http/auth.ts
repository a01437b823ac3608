import { z } from 'zod';

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

export const UserCreateRequestSchema = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._@-]+$/, 'username may hold only A-Z, a-z, 0-9, ".", "_", "@" and "-"'),
  password: z.string().min(8).max(1_000),
  role: UserRoleSchema,
});
export type UserCreateRequest = z.infer<typeof UserCreateRequestSchema>;

export const UserListResponseSchema = z.object({ items: z.array(UserDtoSchema) });
