import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, Principal, Public, Roles } from '@tally/auth';
import { FundingService, StripeWebhookService, WebhookResult } from '@tally/payments';
import { CheckoutDto, CheckoutResponseDto } from './money.dto';

/** A requester tops up through Stripe Checkout; the webhook, not the redirect, credits the balance. */
@ApiTags('money')
@ApiBearerAuth()
@Controller()
export class FundingController {
  constructor(
    private readonly funding: FundingService,
    private readonly webhooks: StripeWebhookService,
  ) {}

  @Post('funding/checkout')
  @Roles('requester')
  @ApiOkResponse({ type: CheckoutResponseDto })
  checkout(@CurrentUser() me: Principal, @Body() dto: CheckoutDto): Promise<CheckoutResponseDto> {
    return this.funding.createCheckout({ userId: me.id, amountMinor: dto.amountMinor, currency: dto.currency, successUrl: dto.successUrl, cancelUrl: dto.cancelUrl });
  }

  /**
   * Stripe's deliveries. The body arrives unparsed (bootstrap.ts mounts express.raw for this path)
   * because the signature is over the exact bytes. 200 for applied, duplicate and ignored events;
   * 400 for a bad signature or stale timestamp; 409 for an event that arrived before what it refers to.
   */
  @Post('stripe/webhook')
  @Public()
  @HttpCode(200)
  @ApiExcludeEndpoint()
  webhook(@Req() req: Request, @Headers('stripe-signature') signature?: string): Promise<WebhookResult> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : '');
    return this.webhooks.receive(raw, signature);
  }
}
