export { UserEntity, ROLES } from './entities/user.entity';
export type { Role } from './entities/user.entity';
export { UsersService, normalizeEmail } from './users.service';
export type { NewUser, UserSearch } from './users.service';
export { UsersModule } from './users.module';
