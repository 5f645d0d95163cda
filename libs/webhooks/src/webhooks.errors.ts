import { DomainError, invalidField, notFound } from '@tally/common';

export const WebhooksErrors = {
  endpointNotFound: () => notFound('WEBHOOK_NOT_FOUND', 'No such webhook endpoint among yours'),
  campaignNotFound: () => notFound('CAMPAIGN_NOT_FOUND', 'No such campaign among yours'),
  notificationNotFound: () => notFound('NOTIFICATION_NOT_FOUND', 'No such notification'),
  insecureUrl: (field = 'url') =>
    invalidField(field, 'must use https (plain http only for hosts listed in WEBHOOK_ALLOW_HOSTS)', 'UNSAFE_URL'),
  tooManyEndpoints: (max: number) => new DomainError('TOO_MANY_WEBHOOKS', 'unprocessable', `At most ${max} live webhook endpoints per requester`),
};
