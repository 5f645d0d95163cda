import { ApiProperty } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsEmail, IsIn, IsString, Length, MaxLength } from 'class-validator';
import { UserEntity } from '@tally/users';

export class SignupDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200, { message: 'must have 10 to 200 characters' })
  password: string;

  @ApiProperty({ example: 'Ada' })
  @IsString()
  @Length(1, 100)
  displayName: string;

  @ApiProperty({ enum: ['requester', 'worker'], isArray: true, example: ['worker'] })
  @IsArray()
  @ArrayMinSize(1, { message: 'must name at least one role' })
  @ArrayUnique()
  @IsIn(['requester', 'worker'], { each: true, message: 'each role must be requester or worker' })
  roles: ('requester' | 'worker')[];
}

export class LoginDto {
  @ApiProperty() @IsString() @MaxLength(254) email: string;
  @ApiProperty() @IsString() @MaxLength(200) password: string;
}

export class RefreshDto {
  @ApiProperty() @IsString() @Length(10, 200) refreshToken: string;
}

export class UserDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ isArray: true, enum: ['requester', 'worker', 'admin'] }) roles: string[];
  @ApiProperty() blocked: boolean;
  @ApiProperty({ nullable: true, type: String }) blockedReason: string | null;
  @ApiProperty() createdAt: string;
}

export class TokensDto {
  @ApiProperty() accessToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ description: 'seconds until the access token expires' }) expiresIn: number;
}

export class SessionDto extends TokensDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}

/** Never the entity: the password hash stays on the server. */
export function toUserDto(u: UserEntity): UserDto {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    roles: u.roles,
    blocked: u.blockedAt !== null,
    blockedReason: u.blockedReason,
    createdAt: u.createdAt.toISOString(),
  };
}
