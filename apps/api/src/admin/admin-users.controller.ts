import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { AuditService } from '@tally/audit';
import { MAX_PAGE_OFFSET, MAX_PAGE_SIZE } from '@tally/common';
import { UsersService } from '@tally/users';
import { toUserDto, UserDto } from '../auth/auth.dto';
import { ParseIdPipe } from '../common/validation';

export class PageQuery {
  @ApiPropertyOptional({ maximum: MAX_PAGE_SIZE, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ default: 0, maximum: MAX_PAGE_OFFSET })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_PAGE_OFFSET)
  offset?: number;
}

export class UserSearchQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'part of the email or display name' })
  @IsOptional() @IsString() @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: ['requester', 'worker', 'admin'] })
  @IsOptional() @IsIn(['requester', 'worker', 'admin'])
  role?: 'requester' | 'worker' | 'admin';

  @ApiPropertyOptional()
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  blocked?: boolean;
}

export class BlockDto {
  @ApiProperty({ description: 'why; kept on the user and in the audit log' })
  @IsString() @Length(3, 1000, { message: 'reason must have 3 to 1000 characters' })
  reason: string;
}

export class UnblockDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 1000) reason?: string;
}

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 50) objectType?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) objectId?: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  @Get('users')
  async list(@Query() q: UserSearchQuery) {
    const page = await this.users.search(q);
    return { ...page, items: page.items.map(toUserDto) };
  }

  @Get('users/:id')
  @ApiOkResponse({ type: UserDto })
  async get(@Param('id', ParseIdPipe) id: string): Promise<UserDto> {
    return toUserDto(await this.users.get(id));
  }

  @Post('users/:id/block')
  @HttpCode(200)
  async block(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: BlockDto): Promise<UserDto> {
    return toUserDto(await this.users.block(me.id, id, dto.reason));
  }

  @Post('users/:id/unblock')
  @HttpCode(200)
  async unblock(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: UnblockDto): Promise<UserDto> {
    return toUserDto(await this.users.unblock(me.id, id, dto.reason));
  }

  @Get('audit')
  async auditLog(@Query() q: AuditQuery) {
    const page = await this.audit.list(q);
    return {
      ...page,
      items: page.items.map((e) => ({
        id: e.id,
        actorId: e.actorId,
        action: e.action,
        objectType: e.objectType,
        objectId: e.objectId,
        reason: e.reason,
        data: e.data,
        createdAt: e.createdAt.toISOString(),
      })),
    };
  }
}
