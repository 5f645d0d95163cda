import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { WebhooksService } from '@tally/webhooks';
import {
  CreateWebhookDto,
  DeliveryListQuery,
  toDeliveryDto,
  toEndpointDto,
  UpdateWebhookDto,
  WebhookDeliveryPageDto,
  WebhookEndpointDto,
  WebhookEndpointPageDto,
  WebhookEndpointWithSecretDto,
  WebhookListQuery,
} from './webhooks.dto';
import { ParseIdPipe } from '../common/validation';

/**
 * A requester's webhook endpoints (README "Webhooks"): events of their campaigns POSTed as JSON,
 * signed with `Tally-Signature`, retried with backoff, and a delivery log. Someone else's endpoint
 * or campaign is a 404; a caller without the requester role gets a 403.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@Roles('requester')
@ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND / CAMPAIGN_NOT_FOUND: none such among yours' })
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiCreatedResponse({ type: WebhookEndpointWithSecretDto, description: 'the signing secret is in this response only' })
  async create(@CurrentUser() me: Principal, @Body() dto: CreateWebhookDto): Promise<WebhookEndpointWithSecretDto> {
    const { endpoint, secret } = await this.webhooks.create(me.id, { url: dto.url, events: dto.events, campaignId: dto.campaignId ?? null, description: dto.description });
    return { ...toEndpointDto(endpoint), secret };
  }

  @Get()
  @ApiOkResponse({ type: WebhookEndpointPageDto })
  async list(@CurrentUser() me: Principal, @Query() q: WebhookListQuery): Promise<WebhookEndpointPageDto> {
    const page = await this.webhooks.list(me.id, { campaignId: q.campaignId, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toEndpointDto) };
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookEndpointDto })
  async get(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.webhooks.get(me.id, id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookEndpointDto })
  async update(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.webhooks.update(me.id, id, { url: dto.url, events: dto.events, description: dto.description, active: dto.active }));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted; its pending deliveries are cancelled; its delivery log stays readable' })
  async remove(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<void> {
    await this.webhooks.remove(me.id, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookEndpointWithSecretDto, description: 'a new signing secret, shown only in this response; the old one stops at once' })
  async rotate(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<WebhookEndpointWithSecretDto> {
    const { endpoint, secret } = await this.webhooks.rotateSecret(me.id, id);
    return { ...toEndpointDto(endpoint), secret };
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: WebhookDeliveryPageDto, description: 'the delivery log, newest first' })
  async deliveries(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: DeliveryListQuery): Promise<WebhookDeliveryPageDto> {
    const page = await this.webhooks.deliveries(me.id, id, { status: q.status, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toDeliveryDto) };
  }
}
