import { ArgumentMetadata, Injectable, ParseUUIDPipe, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldProblem } from '@tally/common';

/** Flattens nested class-validator errors into `field.path: problem` entries. */
export function fieldProblems(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...fieldProblems(e.children ?? [], field)];
  });
}

/**
 * Whitelist + forbid unknown fields: a request cannot smuggle in role, status, balance, gold or
 * reward fields an endpoint does not take. Every 400 names the field and the problem.
 */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fields = fieldProblems(errors);
      return new DomainError('VALIDATION_FAILED', 'invalid', fields.map((f) => `${f.field}: ${f.problem}`).join('; '), { fields });
    },
  });
}

/**
 * ParseUUIDPipe whose 400 names the parameter (`id: must be a UUID`) in the VALIDATION_FAILED
 * shape of every other validation error; Nest's own says only "Validation failed (uuid is expected)".
 */
@Injectable()
export class ParseIdPipe extends ParseUUIDPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<string> {
    try {
      return String(await super.transform(value, metadata));
    } catch {
      const field = metadata.data ?? 'id';
      throw new DomainError('VALIDATION_FAILED', 'invalid', `${field}: must be a UUID`, { fields: [{ field, problem: 'must be a UUID' }] });
    }
  }
}
