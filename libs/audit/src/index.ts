export { AuditEventEntity } from './audit-event.entity';
export { AuditService } from './audit.service';
export type { AuditRecord } from './audit.service';
export { AuditModule } from './audit.module';
