/** Deepest nesting a JSON body may have: far beyond any DTO, far below what blows the stack in class-transformer. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** PostgreSQL text and jsonb cannot hold U+0000: it failed deep in a query as a 500. */
const NUL = '\u0000';

/** Shaped like body-parser's own errors (status, type), so the exception filter reports it the same way. */
export class JsonBodyProblem extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a parsed JSON body must not contain, checked once at the edge so that no handler, DTO or
 * PostgreSQL jsonb column ever sees it: nesting deeper than MAX_JSON_DEPTH (class-transformer and
 * the validators recurse, and overflowed the stack: a 500), and strings with an unpaired UTF-16
 * surrogate (e.g. "\ud800": valid JSON text but not Unicode, refused by jsonb with an error that
 * cannot say which field). The message names the path of the offending value.
 */
export function jsonBodyProblem(body: unknown): JsonBodyProblem | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: body, path: 'body', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return new JsonBodyProblem('entity.invalid.unicode', `${path}: contains an unpaired UTF-16 surrogate (not valid Unicode)`);
      if (v.includes(NUL)) return new JsonBodyProblem('entity.invalid.unicode', `${path}: contains a NUL character (\\u0000), which cannot be stored`);
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return new JsonBodyProblem('entity.too.deep', `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]`, depth: depth + 1 }));
    else
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k) || k.includes(NUL)) return new JsonBodyProblem('entity.invalid.unicode', `${path}: a key contains an unpaired UTF-16 surrogate or a NUL character`);
        stack.push({ v: x, path: `${path}.${k}`, depth: depth + 1 });
      }
  }
  return undefined;
}

/** The same rule for the URL: a %00 in a path parameter or query value reached PostgreSQL (a 500). */
export function urlProblem(url: string): JsonBodyProblem | undefined {
  return /%00/.test(url) ? new JsonBodyProblem('url.invalid', 'url: contains a NUL character (%00) in a path parameter or query value') : undefined;
}
