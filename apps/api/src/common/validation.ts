import { ArgumentMetadata, Injectable, ParseUUIDPipe, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldProblem } from '@tally/common';
import { getMetadataStorage } from 'class-validator';

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
  memoiseValidationMetadata();
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

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type TargetMetadatas = ReturnType<MetadataStorage['getTargetValidationMetadatas']>;
let memoised = false;

/**
 * class-validator looks up a DTO's rules on every validation (and Nest's ValidationPipe once more
 * for its binary-value check): it filters its whole registry and tests `instanceof` against every
 * class that has rules, a cost that grows with the number of DTOs in the app, twice per request
 * with a body. The answer depends only on the registry, which changes when a class with
 * validation decorators is defined: so it is remembered per (class, options) and forgotten
 * whenever a rule is added. Callers get a copy, so nothing they do can change what is remembered.
 */
function memoiseValidationMetadata(): void {
  if (memoised) return;
  memoised = true;
  const storage = getMetadataStorage();
  const lookUp = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let cache = new WeakMap<object, Map<string, TargetMetadatas>>();
  storage.addValidationMetadata = (metadata) => {
    cache = new WeakMap();
    add(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}|${always}|${strictGroups}|${groups ? JSON.stringify(groups) : ''}`;
    let perTarget = cache.get(target);
    if (!perTarget) cache.set(target, (perTarget = new Map()));
    let found = perTarget.get(key);
    if (!found) perTarget.set(key, (found = lookUp(target, schema, always, strictGroups, groups)));
    return found.slice();
  };
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
