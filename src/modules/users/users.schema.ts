import { Type } from '@sinclair/typebox';
import { ROLES } from '../../platform/auth.js';
import { Id } from '../schemas.js';

export const Business = Type.Object({
  id: Id,
  name: Type.String(),
  currency: Type.String(),
  locale: Type.String(),
  country: Type.String(),
  timezone: Type.String(),
});

export const RoleName = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const User = Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.String(),
  role: RoleName,
  is_active: Type.Boolean(),
});

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 8, maxLength: 200 });
const Name = Type.String({ minLength: 1, maxLength: 200 });

export const RegisterBody = Type.Object({
  business_name: Name,
  name: Name,
  email: Email,
  password: Password,
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  locale: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$' })),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});

export const LoginBody = Type.Object({ email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 200 }) });

export const Session = Type.Object({ token: Type.String(), user: User, business: Business });

export const CreateUserBody = Type.Object({ name: Name, email: Email, password: Password, role: RoleName });

export const UpdateUserBody = Type.Object({
  name: Type.Optional(Name),
  role: Type.Optional(RoleName),
  is_active: Type.Optional(Type.Boolean({ description: 'false signs the user out at once and refuses sign-in' })),
}, { minProperties: 1 });

export const ChangePasswordBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 200 }),
  new_password: Password,
});
