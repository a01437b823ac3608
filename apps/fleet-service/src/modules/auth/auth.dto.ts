import { z } from 'zod';
import { RoleSchema } from './roles.js';

export const UserDtoSchema = z.object({
  username: z.string(),
  role: RoleSchema,
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
  role: RoleSchema,
});
export type UserCreateRequest = z.infer<typeof UserCreateRequestSchema>;

export const UserListResponseSchema = z.object({ items: z.array(UserDtoSchema) });

/** Claims carried in the access token. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  role: z.infer<typeof RoleSchema>;
}
