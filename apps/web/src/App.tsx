import { lazy, ReactNode, Suspense } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { User } from './api';
import { homeFor, useAuth } from './auth';
import { InboxNavLink } from './notifications';
import { SignInPage, SignUpPage } from './pages/AuthPages';
import { MyWorkPage, TaskPage, WorkCampaignsPage } from './pages/WorkerPages';

// Requester and admin pages (and chart.js) load on demand: a worker's first load stays small.
const requester = () => import('./pages/RequesterPages');
const CampaignsPage = lazy(() => requester().then((m) => ({ default: m.CampaignsPage })));
const CampaignDashboardPage = lazy(() => requester().then((m) => ({ default: m.CampaignDashboardPage })));
const ReviewPage = lazy(() => requester().then((m) => ({ default: m.ReviewPage })));
const CampaignWizardPage = lazy(() => import('./pages/CampaignWizard').then((m) => ({ default: m.CampaignWizardPage })));
const admin = () => import('./pages/AdminPages');
const AdminLayout = lazy(() => admin().then((m) => ({ default: m.AdminLayout })));
const AdminOverviewPage = lazy(() => admin().then((m) => ({ default: m.AdminOverviewPage })));
const AdminUsersPage = lazy(() => admin().then((m) => ({ default: m.AdminUsersPage })));
const AdminAuditPage = lazy(() => admin().then((m) => ({ default: m.AdminAuditPage })));
const AdminLedgerPage = lazy(() => admin().then((m) => ({ default: m.AdminLedgerPage })));
const AdminPayoutsPage = lazy(() => admin().then((m) => ({ default: m.AdminPayoutsPage })));
const AdminUserDetailPage = lazy(() => admin().then((m) => ({ default: m.AdminUserDetailPage })));
const AdminAgreementPage = lazy(() => admin().then((m) => ({ default: m.AdminAgreementPage })));
const moneyPages = () => import('./pages/MoneyPages');
const EarningsPage = lazy(() => moneyPages().then((m) => ({ default: m.EarningsPage })));
const FundingPage = lazy(() => moneyPages().then((m) => ({ default: m.FundingPage })));
const MturkKeysPage = lazy(() => import('./pages/MturkKeysPage').then((m) => ({ default: m.MturkKeysPage })));
const WebhooksPage = lazy(() => import('./pages/WebhooksPage').then((m) => ({ default: m.WebhooksPage })));
const InboxPage = lazy(() => import('./pages/InboxPage').then((m) => ({ default: m.InboxPage })));
const ReliabilityPage = lazy(() => import('./pages/ReliabilityPage').then((m) => ({ default: m.ReliabilityPage })));

type Role = User['roles'][number];

function Need({ role, children }: { role: Role; children: ReactNode }) {
  const { user, loading } = useAuth();
  const loc = useLocation();
  if (loading) return <p className="muted page">Loading…</p>;
  if (!user) return <Navigate to="/signin" replace state={{ from: loc.pathname }} />;
  if (!user.roles.includes(role))
    return (
      <div className="page">
        <p className="error" role="alert">
          This page is for {role}s. <Link to={homeFor(user)}>Go to your home page</Link>
        </p>
      </div>
    );
  return <>{children}</>;
}

function Header() {
  const { user, signOut } = useAuth();
  return (
    <header className="app-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link to={homeFor(user)} className="brand" aria-label="Tally home">
        <span aria-hidden="true">▦</span> Tally
      </Link>
      {user && (
        <nav aria-label="Main" className="main-nav">
          {user.roles.includes('worker') && (
            <>
              <NavLink to="/work" end>
                Find work
              </NavLink>
              <NavLink to="/work/history">My work</NavLink>
              <NavLink to="/work/earnings">Earnings</NavLink>
              <NavLink to="/work/reliability">Reliability</NavLink>
              <InboxNavLink />
            </>
          )}
          {user.roles.includes('requester') && (
            <>
              <NavLink to="/campaigns">Campaigns</NavLink>
              <NavLink to="/funding">Funding</NavLink>
              <NavLink to="/mturk/keys">MTurk keys</NavLink>
              <NavLink to="/webhooks">Webhooks</NavLink>
            </>
          )}
          {user.roles.includes('admin') && <NavLink to="/admin">Admin</NavLink>}
        </nav>
      )}
      <div className="user-box">
        {user ? (
          <>
            <span className="muted" title={user.email}>
              {user.displayName}
            </span>
            <button type="button" className="link" onClick={() => void signOut()}>
              Sign out
            </button>
          </>
        ) : (
          <>
            <NavLink to="/signin">Sign in</NavLink>
            <NavLink to="/signup">Sign up</NavLink>
          </>
        )}
      </div>
    </header>
  );
}

function Home() {
  const { user, loading } = useAuth();
  if (loading) return <p className="muted page">Loading…</p>;
  return <Navigate to={homeFor(user)} replace />;
}

export function App() {
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted page">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/signin" element={<SignInPage />} />
            <Route path="/signup" element={<SignUpPage />} />
            <Route path="/work" element={<Need role="worker"><WorkCampaignsPage /></Need>} />
            <Route path="/work/history" element={<Need role="worker"><MyWorkPage /></Need>} />
            <Route path="/work/earnings" element={<Need role="worker"><EarningsPage /></Need>} />
            <Route path="/work/reliability" element={<Need role="worker"><ReliabilityPage /></Need>} />
            <Route path="/work/inbox" element={<Need role="worker"><InboxPage /></Need>} />
            <Route path="/work/:campaignId" element={<Need role="worker"><TaskPage /></Need>} />
            {/* Stripe's default return links (the UI passes its own, these catch older ones). */}
            <Route path="/payouts/onboarding/done" element={<Navigate to="/work/earnings?onboarding=done" replace />} />
            <Route path="/payouts/onboarding/refresh" element={<Navigate to="/work/earnings?onboarding=refresh" replace />} />
            <Route path="/funding" element={<Need role="requester"><FundingPage /></Need>} />
            <Route path="/funding/success" element={<Navigate to="/funding?status=success" replace />} />
            <Route path="/funding/cancelled" element={<Navigate to="/funding?status=cancelled" replace />} />
            <Route path="/mturk/keys" element={<Need role="requester"><MturkKeysPage /></Need>} />
            <Route path="/webhooks" element={<Need role="requester"><WebhooksPage /></Need>} />
            <Route path="/campaigns" element={<Need role="requester"><CampaignsPage /></Need>} />
            <Route path="/campaigns/new" element={<Need role="requester"><CampaignWizardPage /></Need>} />
            <Route path="/campaigns/:id" element={<Need role="requester"><CampaignDashboardPage /></Need>} />
            <Route path="/campaigns/:id/review" element={<Need role="requester"><ReviewPage /></Need>} />
            <Route path="/admin" element={<Need role="admin"><AdminLayout /></Need>}>
              <Route index element={<AdminOverviewPage />} />
              <Route path="users" element={<AdminUsersPage />} />
              <Route path="audit" element={<AdminAuditPage />} />
              <Route path="users/:id" element={<AdminUserDetailPage />} />
              <Route path="campaigns/:id/agreement" element={<AdminAgreementPage />} />
              <Route path="ledger" element={<AdminLedgerPage />} />
              <Route path="payouts" element={<AdminPayoutsPage />} />
            </Route>
            <Route path="*" element={<div className="page"><h1>Not found</h1><Link to="/">Home</Link></div>} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
