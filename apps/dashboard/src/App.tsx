import { Route, Router, Switch } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { AppShell } from './layout/AppShell';
import { ThemeProvider } from './layout/ThemeProvider';
import { DevicePage } from './pages/devices/DevicePage';
import { DevicesPage } from './pages/devices/DevicesPage';
import { EventsPage } from './pages/events/EventsPage';
import { FleetPage } from './pages/fleet/FleetPage';
import { ModelsPage } from './pages/models/ModelsPage';
import { RolloutCreatePage } from './pages/rollouts/RolloutCreatePage';
import { RolloutPage } from './pages/rollouts/RolloutPage';
import { RolloutsPage } from './pages/rollouts/RolloutsPage';
import { SessionProvider } from './session/SessionProvider';

/**
 * Pages live in the URL fragment (`/#/devices/<id>`): the control plane serves the API at the root paths, so
 * the dashboard only owns `/` and `/assets/`, and a reload of any page never reaches an API route.
 */
export function App() {
  return (
    <ThemeProvider>
      <SessionProvider>
        <Router hook={useHashLocation}>
          <AppShell>
            <Switch>
              <Route path="/">
                <FleetPage />
              </Route>
              <Route path="/devices">
                <DevicesPage />
              </Route>
              <Route path="/devices/:id">
                {(params) => <DevicePage id={decodeURIComponent(params.id)} />}
              </Route>
              <Route path="/models">
                <ModelsPage />
              </Route>
              <Route path="/models/:name">
                {(params) => <ModelsPage name={decodeURIComponent(params.name)} />}
              </Route>
              <Route path="/models/:name/:version">
                {(params) => (
                  <ModelsPage name={decodeURIComponent(params.name)} version={Number(params.version)} />
                )}
              </Route>
              <Route path="/rollouts">
                <RolloutsPage />
              </Route>
              <Route path="/rollouts/new">
                <RolloutCreatePage />
              </Route>
              <Route path="/rollouts/:id">
                {(params) => <RolloutPage id={decodeURIComponent(params.id)} />}
              </Route>
              <Route path="/events">
                <EventsPage />
              </Route>
              <Route>
                <p className="muted">
                  No such page. <a href="#/">Back to the fleet</a>
                </p>
              </Route>
            </Switch>
          </AppShell>
        </Router>
      </SessionProvider>
    </ThemeProvider>
  );
}
