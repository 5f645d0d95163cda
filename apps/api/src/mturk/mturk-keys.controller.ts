import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { MturkAccessKeysService } from '@tally/mturk';
import { AccessKeyDto, AccessKeyPageDto, AccessKeysQuery, CreateAccessKeyDto, NewAccessKeyDto, toAccessKeyDto, toNewAccessKeyDto } from './mturk.dto';

/** A requester's access key pairs for the MTurk-compatible API (POST /api/mturk, SigV4). */
@ApiTags('mturk')
@ApiBearerAuth()
@Controller('mturk/keys')
export class MturkKeysController {
  constructor(private readonly keys: MturkAccessKeysService) {}

  /** Issues a key pair; the secret is in this response only. */
  @Post()
  @Roles('requester')
  @ApiCreatedResponse({ type: NewAccessKeyDto })
  async create(@CurrentUser() me: Principal, @Body() dto: CreateAccessKeyDto): Promise<NewAccessKeyDto> {
    return toNewAccessKeyDto(await this.keys.create(me.id, dto.label ?? ''));
  }

  @Get()
  @Roles('requester')
  @ApiOkResponse({ type: AccessKeyPageDto })
  async list(@CurrentUser() me: Principal, @Query() q: AccessKeysQuery): Promise<AccessKeyPageDto> {
    const page = await this.keys.list(me.id, { limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toAccessKeyDto) };
  }

  /** Revokes a key at once: requests signed with it are refused from now on. */
  @Post(':accessKeyId/revoke')
  @Roles('requester')
  @HttpCode(200)
  @ApiOkResponse({ type: AccessKeyDto })
  async revoke(@CurrentUser() me: Principal, @Param('accessKeyId') accessKeyId: string): Promise<AccessKeyDto> {
    return toAccessKeyDto(await this.keys.revoke(me.id, accessKeyId));
  }
}
