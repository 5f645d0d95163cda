import { jsonBodyProblem, MAX_JSON_DEPTH, urlProblem } from './json-guard';

describe('jsonBodyProblem', () => {
  const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nest(depth - 1) });

  it('lets ordinary bodies through, emoji (paired surrogates) included', () => {
    expect(jsonBodyProblem({ name: 'Sentiment 🙂', labels: ['😀', 'x'], qualification: { minReliability: 0.5 } })).toBeUndefined();
    expect(jsonBodyProblem(undefined)).toBeUndefined();
    expect(jsonBodyProblem(nest(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('refuses nesting deeper than the limit, naming the path, without recursing', () => {
    expect(jsonBodyProblem(nest(MAX_JSON_DEPTH + 1))).toMatchObject({ status: 400, type: 'entity.too.deep', message: `body${'.a'.repeat(MAX_JSON_DEPTH)}: nested deeper than ${MAX_JSON_DEPTH} levels` });
    const deep = JSON.parse('['.repeat(10_000) + ']'.repeat(10_000));
    expect(jsonBodyProblem({ answer: deep })?.type).toBe('entity.too.deep');
  });

  it('refuses unpaired UTF-16 surrogates in values and keys, naming the path', () => {
    expect(jsonBodyProblem({ labels: ['ok', 'bad \ud800'] })).toMatchObject({ type: 'entity.invalid.unicode', message: 'body.labels[1]: contains an unpaired UTF-16 surrogate (not valid Unicode)' });
    expect(jsonBodyProblem({ answer: { text: '\udc00 trailing low' } })?.message).toMatch(/^body\.answer\.text:/);
    expect(jsonBodyProblem(JSON.parse('{"\\ud83d":1}'))?.message).toBe('body: a key contains an unpaired UTF-16 surrogate or a NUL character');
  });

  it('refuses NUL characters, which PostgreSQL text cannot hold, in bodies and URLs', () => {
    expect(jsonBodyProblem({ name: 'a\u0000b' })?.message).toBe('body.name: contains a NUL character (\\u0000), which cannot be stored');
    expect(urlProblem('/api/mturk/keys/%00/revoke')?.message).toMatch(/^url: contains a NUL character/);
    expect(urlProblem('/api/campaigns?q=a%2500')).toBeUndefined();
  });
});
