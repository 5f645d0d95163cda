export { createTestApp, signUp, createAdmin, onEmbeddedPostgres } from './test-app';
export type { TestApp, TestUser } from './test-app';
