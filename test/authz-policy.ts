/**
 * Who may call each route of the api app: the table test/authz-matrix.e2e-spec.ts checks against
 * the running app's router. A route that is not in this table fails that test (classify it here),
 * and so does an entry whose route is gone.
 *
 * - allow: 'public' (no bearer token needed: the credential, if any, is in the request, such as a
 *   signature or a token in the path), 'authenticated' (any signed-in role), or the roles.
 *   Everyone else gets 401 (no token) or 403 FORBIDDEN_ROLE (wrong role).
 * - owned: the route acts on an object with an owner (the requester of a campaign, the worker of an
 *   assignment, ...). The owner gets `ok`; another requester or worker gets `other` (404 unless
 *   said otherwise: ids are not confirmed to strangers). Admins act on any object where allowed.
 * - ok: the statuses the allowed caller gets for a valid call on its own object (default 2xx).
 */
export type Role = 'worker' | 'requester' | 'admin';

/** Objects the matrix creates fresh for each call, one owned by the caller and one by someone else. */
export type Owned =
  | 'campaign' // a published campaign of the requester, with a hidden gold item and another worker's submitted answer
  | 'draft' // a draft campaign of the requester
  | 'paused' // a paused campaign of the requester
  | 'submitted' // an assignment another worker submitted on the requester's campaign
  | 'claimed' // an assignment the worker claimed (live)
  | 'qualification' // a named qualification the requester created
  | 'access-key' // an MTurk-API access key of the requester
  | 'webhook' // a webhook endpoint of the requester
  | 'notification'; // a message in the worker's inbox

export interface Policy {
  allow: 'public' | 'authenticated' | Role[];
  owned?: Owned;
  ok?: number[];
  /** what another requester / worker gets for this object (default 404) */
  other?: number;
  note?: string;
}

const R: Role[] = ['requester'];
const W: Role[] = ['worker'];
const A: Role[] = ['admin'];

export const POLICY: Record<string, Policy> = {
  // --- public: health, metrics (METRICS_TOKEN unset in tests), sign-up and sessions
  'GET /health': { allow: 'public', ok: [200] },
  'GET /metrics': { allow: 'public', ok: [200] },
  'POST /api/auth/signup': { allow: 'public', ok: [201] },
  'POST /api/auth/login': { allow: 'public', ok: [200] },
  'POST /api/auth/refresh': { allow: 'public', ok: [401], note: 'the refresh token is the credential; an unknown one is a 401' },
  'POST /api/auth/logout': { allow: 'public', ok: [204] },
  'POST /api/stripe/webhook': { allow: 'public', ok: [400], note: 'the Stripe signature is the credential; unsigned is a 400' },
  'POST /api/mturk': { allow: 'public', ok: [400, 403], note: 'SigV4 is the credential: no Authorization is a 403 MissingAuthenticationToken, a Bearer one a 400 IncompleteSignature' },
  'GET /api/mturk/frame/:token': { allow: 'public', ok: [404], note: 'the signed token is the credential' },
  'POST /api/mturk/submit/:token/mturk/externalSubmit': { allow: 'public', ok: [403], note: 'the signed token is the credential: 403 MTURK_SUBMIT_REFUSED' },
  'GET /api/mturk/submit/:token/mturk/externalSubmit': { allow: 'public', ok: [403], note: 'the signed token is the credential: 403 MTURK_SUBMIT_REFUSED' },
  'GET /api/images/:signature': { allow: 'public', ok: [403], note: 'the HMAC signature of the url is the credential' },

  // --- any signed-in user: their own things only (no id in the request)
  'GET /api/auth/me': { allow: 'authenticated' },
  'GET /api/me/balance': { allow: 'authenticated' },
  'GET /api/me/statement': { allow: 'authenticated' },
  'GET /api/funding/options': { allow: 'authenticated' },

  // --- requester: campaigns, items, review, quality, results, money, MTurk keys, webhooks
  'POST /api/campaigns': { allow: R },
  'GET /api/campaigns': { allow: R },
  'GET /api/campaigns/:id': { allow: R, owned: 'campaign' },
  'PATCH /api/campaigns/:id': { allow: R, owned: 'draft' },
  'GET /api/campaigns/:id/progress': { allow: R, owned: 'campaign' },
  'POST /api/campaigns/:id/publish': { allow: R, owned: 'draft' },
  'POST /api/campaigns/:id/pause': { allow: R, owned: 'campaign' },
  'POST /api/campaigns/:id/resume': { allow: R, owned: 'paused' },
  'POST /api/campaigns/:id/cancel': { allow: R, owned: 'campaign' },
  'POST /api/campaigns/:id/items': { allow: R, owned: 'draft' },
  'GET /api/campaigns/:id/imports': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/tasks': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/answers': { allow: R, owned: 'campaign' },
  'POST /api/campaigns/:id/assignments/review': { allow: R, owned: 'submitted' },
  'POST /api/assignments/:id/approve': { allow: R, owned: 'submitted' },
  'POST /api/assignments/:id/reject': { allow: R, owned: 'submitted' },
  'GET /api/campaigns/:id/insights': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/quality-rules': { allow: R, owned: 'campaign' },
  'PATCH /api/campaigns/:id/quality-rules': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/workers': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/results/summary': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/review-sample': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/rule-log': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/flags': { allow: R, owned: 'campaign' },
  'POST /api/campaigns/:id/quality/reestimate': { allow: R, owned: 'campaign' },
  'GET /api/campaigns/:id/results': { allow: ['requester', 'admin'], owned: 'campaign', note: 'the owner, or an admin (any campaign)' },
  'POST /api/funding/checkout': { allow: R },
  'POST /api/bonuses': { allow: R, owned: 'submitted', note: 'the campaign is named in the body' },
  'POST /api/mturk/keys': { allow: R },
  'GET /api/mturk/keys': { allow: R },
  'POST /api/mturk/keys/:accessKeyId/revoke': { allow: R, owned: 'access-key' },
  'POST /api/webhooks': { allow: R },
  'GET /api/webhooks': { allow: R },
  'GET /api/webhooks/:id': { allow: R, owned: 'webhook' },
  'PATCH /api/webhooks/:id': { allow: R, owned: 'webhook' },
  'DELETE /api/webhooks/:id': { allow: R, owned: 'webhook' },
  'POST /api/webhooks/:id/rotate-secret': { allow: R, owned: 'webhook' },
  'GET /api/webhooks/:id/deliveries': { allow: R, owned: 'webhook' },

  // --- requester or admin: named qualifications. Their names are listed to every requester, so
  //     another's qualification is visible: acting on it is a 403 NOT_QUALIFICATION_OWNER, not a 404.
  'POST /api/qualifications': { allow: ['requester', 'admin'] },
  'GET /api/qualifications': { allow: ['requester', 'admin'] },
  'POST /api/qualifications/:id/grants': { allow: ['requester', 'admin'], owned: 'qualification', other: 403, ok: [200, 404], note: 'admin grants by workerId (200); the requester names an unknown pseudonym (404 WORKER_NOT_FOUND, past the ownership check)' },
  'POST /api/qualifications/:id/revocations': { allow: ['requester', 'admin'], owned: 'qualification', other: 403, ok: [404], note: 'nobody holds it: 404 WORKER_NOT_FOUND, past the ownership check' },

  // --- worker: find work, claim, answer, look back, money, inbox
  'GET /api/work/campaigns': { allow: W },
  'POST /api/work/campaigns/:id/claim': { allow: W, note: 'any open campaign (never the caller’s own)' },
  'POST /api/work/assignments/:id/submit': { allow: W, owned: 'claimed' },
  'POST /api/work/assignments/:id/return': { allow: W, owned: 'claimed' },
  'GET /api/work/assignments': { allow: W },
  'GET /api/work/assignments/:id': { allow: W, owned: 'claimed' },
  'GET /api/mturk/assignments/:id/frame': { allow: W, owned: 'claimed', ok: [404], note: 'only MTurk HTML/External HITs have a frame (test/mturk.e2e-spec.ts); a plain assignment is a 404 for its owner too' },
  'GET /api/me/reliability': { allow: W },
  'GET /api/me/payout-account': { allow: W },
  'POST /api/payouts/account': { allow: W },
  'GET /api/payouts': { allow: W },
  'GET /api/me/notifications': { allow: W },
  'POST /api/me/notifications/:id/read': { allow: W, owned: 'notification' },

  // --- admin
  'GET /api/admin/users': { allow: A },
  'GET /api/admin/users/:id': { allow: A },
  'POST /api/admin/users/:id/block': { allow: A },
  'POST /api/admin/users/:id/unblock': { allow: A },
  'GET /api/admin/audit': { allow: A },
  'GET /api/admin/campaigns': { allow: A },
  'GET /api/admin/campaigns/:id': { allow: A },
  'GET /api/admin/assignments': { allow: A },
  'POST /api/admin/ledger/credits': { allow: A },
  'GET /api/admin/ledger/trial-balance': { allow: A },
  'GET /api/admin/ledger/campaigns/:id': { allow: A },
  'GET /api/admin/ledger/users/:id/statement': { allow: A },
  'GET /api/admin/payouts': { allow: A },
  'POST /api/admin/payouts/run': { allow: A },
  'GET /api/admin/payouts/reconciliation': { allow: A },
  'GET /api/admin/campaigns/:id/agreement-audit': { allow: A },
  'GET /api/admin/workers/:id/quality': { allow: A },
  'GET /api/admin/reliability': { allow: A },
  'GET /api/admin/campaigns/:id/workers': { allow: A },
  'GET /api/admin/quality/rule-log': { allow: A },
  'GET /api/admin/quality/flags': { allow: A },
  'POST /api/admin/quality/flags/:flagId/resolve': { allow: A, ok: [404], note: 'no flag exists in the fixture: FLAG_NOT_FOUND past the role check' },
  'POST /api/admin/campaigns/:id/blocks': { allow: A },
  'POST /api/admin/campaigns/:id/blocks/:workerId/unblock': { allow: A },
  'POST /api/admin/quality/run': { allow: A },
};
