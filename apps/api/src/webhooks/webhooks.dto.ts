import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { DELIVERY_STATUSES, MAX_URL_LENGTH, WEBHOOK_EVENT_TYPES } from '@tally/webhooks';
import type { DeliveryStatus, WebhookDeliveryView, WebhookEndpointView, WebhookEventType, WorkerNotificationView } from '@tally/webhooks';
import { PageQuery } from '../admin/admin-users.controller';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://example.org/tally-events', description: 'https (plain http only for hosts in WEBHOOK_ALLOW_HOSTS); must resolve to a public address' })
  @IsString() @Length(8, MAX_URL_LENGTH)
  url: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length) @ArrayUnique() @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events: WebhookEventType[];

  @ApiPropertyOptional({ format: 'uuid', description: 'one of your campaigns; absent: all your campaigns' })
  @IsOptional() @IsUUID()
  campaignId?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional()
  @IsOptional() @IsString() @Length(8, MAX_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length) @ArrayUnique() @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: WebhookEventType[];

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ description: 'false pauses the endpoint: events are not recorded for it, and its pending deliveries are cancelled when due' })
  @IsOptional() @IsBoolean()
  active?: boolean;
}

export class WebhookListQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  campaignId?: string;
}

export class DeliveryListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional() @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class NotificationListQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'only unread ones' })
  @IsOptional() @Transform(toBool) @IsBoolean()
  unread?: boolean;
}

export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) events: string[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) campaignId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'set for endpoints made by MTurk UpdateNotificationSettings' }) hitTypeId: string | null;
  @ApiProperty({ enum: ['tally', 'mturk'] }) format: string;
  @ApiProperty() description: string;
  @ApiProperty() active: boolean;
  @ApiProperty({ description: 'the last 4 characters of the signing secret' }) secretHint: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class WebhookEndpointWithSecretDto extends WebhookEndpointDto {
  @ApiProperty({ description: 'the signing secret (whsec_…): shown only in this response' }) secret: string;
}

export class WebhookEndpointPageDto {
  @ApiProperty({ type: [WebhookEndpointDto] }) items: WebhookEndpointDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'the Tally-Event-Id header' }) eventId: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType: string;
  @ApiProperty({ format: 'uuid' }) campaignId: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ nullable: true, type: String }) nextAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: String }) deliveredAt: string | null;
  @ApiProperty() createdAt: string;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items: WebhookDeliveryDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class WorkerNotificationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() subject: string;
  @ApiProperty() message: string;
  @ApiProperty({ description: "the requester's display name" }) from: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) readAt: string | null;
}

export class WorkerNotificationPageDto {
  @ApiProperty({ type: [WorkerNotificationDto] }) items: WorkerNotificationDto[];
  @ApiProperty() total: number;
  @ApiProperty() unread: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export const toEndpointDto = (e: WebhookEndpointView): WebhookEndpointDto => ({
  id: e.id,
  url: e.url,
  events: e.events,
  campaignId: e.campaignId,
  hitTypeId: e.hitTypeId,
  format: e.format,
  description: e.description,
  active: e.active,
  secretHint: e.secretHint,
  createdAt: iso(e.createdAt)!,
  updatedAt: iso(e.updatedAt)!,
});

export const toDeliveryDto = (d: WebhookDeliveryView): WebhookDeliveryDto => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  campaignId: d.campaignId,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  nextAttemptAt: iso(d.nextAttemptAt),
  deliveredAt: iso(d.deliveredAt),
  createdAt: iso(d.createdAt)!,
});

export const toNotificationDto = (n: WorkerNotificationView): WorkerNotificationDto => ({
  id: n.id,
  subject: n.subject,
  message: n.message,
  from: n.from,
  createdAt: iso(n.createdAt)!,
  readAt: iso(n.readAt),
});
