import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { WorkerNotificationsService } from '@tally/webhooks';
import { NotificationListQuery, toNotificationDto, WorkerNotificationPageDto } from './webhooks.dto';
import { ParseIdPipe } from '../common/validation';

/** A worker's inbox: messages requesters they worked for sent them (MTurk NotifyWorkers). */
@ApiTags('work')
@ApiBearerAuth()
@Roles('worker')
@Controller('me/notifications')
export class MyNotificationsController {
  constructor(private readonly notifications: WorkerNotificationsService) {}

  @Get()
  @ApiOkResponse({ type: WorkerNotificationPageDto })
  async list(@CurrentUser() me: Principal, @Query() q: NotificationListQuery): Promise<WorkerNotificationPageDto> {
    const page = await this.notifications.listMine(me.id, { unread: q.unread, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toNotificationDto) };
  }

  @Post(':id/read')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'marked read (idempotent); NOTIFICATION_NOT_FOUND for anyone else’s' })
  async read(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<void> {
    await this.notifications.markRead(me.id, id);
  }
}
