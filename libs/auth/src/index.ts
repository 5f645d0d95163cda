export { AuthModule } from './auth.module';
export { AuthService } from './auth.service';
export type { SignupInput } from './auth.service';
export { Public, Roles, CurrentUser } from './decorators';
export { JwtAuthGuard, RolesGuard } from './guards';
export { hashPassword, verifyPassword } from './password';
export { RefreshTokenEntity } from './entities/refresh-token.entity';
export type { Principal, TokenPair } from './principal';
