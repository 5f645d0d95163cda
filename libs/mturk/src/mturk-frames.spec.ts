import { createHash } from 'node:crypto';
import { frameHeaders, SUBMITTED_PAGE } from './mturk-frames.service';

const directives = (csp: string) => new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));

describe('frameHeaders (the CSP of pages served into a worker frame)', () => {
  it('sandboxes a requester’s HTML without allow-same-origin, lets only Tally frame it, and lets its forms post only to externalSubmit', () => {
    const h = frameHeaders('https://tally.example.org/', 'question');
    const d = directives(h['content-security-policy']);
    expect(d.get('sandbox')).toBe('allow-scripts allow-forms');
    expect(d.get('default-src')).toBe("'none'");
    expect(d.get('form-action')).toBe('https://tally.example.org/api/mturk/submit/');
    expect(d.get('frame-ancestors')).toBe("'self' https://tally.example.org");
    expect(d.get('frame-src')).toBe("'none'");
    expect(d.get('object-src')).toBe("'none'");
    expect(d.get('base-uri')).toBe("'none'");
    expect(d.get('script-src')).not.toContain("'self'");
    expect(h['content-type']).toBe('text/html; charset=utf-8');
    expect(h['cache-control']).toBe('no-store');
  });

  it('lets the "submitted" page run exactly its own inline script (by hash)', () => {
    const d = directives(frameHeaders('http://127.0.0.1:3000', 'submitted')['content-security-policy']);
    expect(d.get('sandbox')).toBe('allow-scripts');
    const script = /<script>([\s\S]*?)<\/script>/.exec(SUBMITTED_PAGE)![1];
    expect(d.get('script-src')).toBe(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(script).toContain('tally:mturk-submitted');
  });
});
