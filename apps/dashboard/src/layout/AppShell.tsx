import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useSession } from '../session/session-context';
import { ThemeToggle } from './ThemeToggle';

const SECTIONS = [
  { path: '/', label: 'Fleet' },
  { path: '/devices', label: 'Devices' },
  { path: '/models', label: 'Models' },
  { path: '/rollouts', label: 'Rollouts' },
  { path: '/events', label: 'Events' },
] as const;

function isCurrent(section: string, location: string): boolean {
  return section === '/' ? location === '/' : location === section || location.startsWith(`${section}/`);
}

/** Navigation, who is logged in (and with which role), theme switch; the page below. */
export function AppShell({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const { principal, logout } = useSession();
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">emofleet</span>
        <nav aria-label="Sections">
          {SECTIONS.map((section) => (
            <Link
              key={section.path}
              href={section.path}
              className={isCurrent(section.path, location) ? 'nav-link current' : 'nav-link'}
              aria-current={isCurrent(section.path, location) ? 'page' : undefined}
            >
              {section.label}
            </Link>
          ))}
        </nav>
        <div className="session">
          <span className="who" data-testid="session-role" title={`API token ${principal.tokenId}`}>
            {principal.name} · <strong>{principal.role}</strong>
          </span>
          <ThemeToggle />
          <button type="button" className="ghost" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main className="page">{children}</main>
    </div>
  );
}
