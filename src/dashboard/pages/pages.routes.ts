/** Every dashboard page and action, one module each (all behind the login of auth.plugin.ts). */
import type { FastifyInstance } from 'fastify';
import { registerAsinRoutes } from '../../amazon/support.routes.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { registerConfigurationPage } from './configuration.page.ts';
import { registerConfigurationsPage } from './configurations.page.ts';
import { registerDonationsPage } from './donations.page.ts';
import { registerApiTokensPage } from './api-tokens.page.ts';
import { registerDataQualityPage } from './data-quality.page.ts';
import { registerExportJobRoutes } from './export-jobs.routes.ts';
import { registerExportPage } from './export.page.ts';
import { registerHomePage } from './home.page.ts';
import { registerProductPage } from './product.page.ts';
import { registerProductsPage } from './products.page.ts';
import { registerSourceActions } from './source-actions.routes.ts';
import { registerSourceListRoutes } from './source-list.routes.ts';
import { registerSourceConfigurationActions } from './source.configuration.ts';
import { registerSourceErasureActions } from './source.erasure.ts';
import { registerSourcePage } from './source.page.ts';
import { registerSystemHealthPage } from './system-health.page.ts';
import { registerUserAgentsPage } from './user-agents.page.ts';

export function registerPages(scope: FastifyInstance, deps: DashboardDeps): void {
  registerHomePage(scope, deps);
  registerSourceActions(scope, deps);
  registerSourceListRoutes(scope, deps);
  registerSourcePage(scope, deps);
  registerSystemHealthPage(scope, deps);
  registerUserAgentsPage(scope, deps);
  registerProductsPage(scope, deps);
  registerProductPage(scope, deps);
  registerExportPage(scope, deps);
  registerExportJobRoutes(scope, deps);
  registerConfigurationsPage(scope, deps);
  registerConfigurationPage(scope, deps);
  registerSourceConfigurationActions(scope, deps);
  registerSourceErasureActions(scope, deps);
  registerApiTokensPage(scope, deps);
  registerDataQualityPage(scope, deps);
  registerDonationsPage(scope, deps);
  // the product endpoints for logged-in staff (the dashboard's login guards them here)
  registerAsinRoutes(scope, deps.pool);
}
