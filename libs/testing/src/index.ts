export { createTestApp, signUp, createAdmin, onEmbeddedPostgres } from './test-app';
export type { TestApp, TestUser } from './test-app';
export { seedCampaign, seedUsers, dataSourceOf } from './fixtures';
export type { SeedCampaignOverrides, SeedItem, SeededCampaign } from './fixtures';
export { FakeStripe, startFakeStripe, parseStripeForm } from './fake-stripe';
export type { RecordedRequest, FailureSpec } from './fake-stripe';
export { selectionForm } from './mturk-fixtures';
