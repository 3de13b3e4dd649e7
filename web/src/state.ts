import type { AdminCredentials } from './api.js';
import type { RegisteredModel, UiConfig } from './types.js';

/** What the pages share, for the life of this tab only (nothing is written to storage). */
export interface AppState {
  config: UiConfig;
  models: RegisteredModel[];
  /** The model the pages show; changed with the picker in the header. */
  model: string;
  /** The admin token, asked for on the Models page, kept in memory only. */
  admin: AdminCredentials;
}

export type Page = 'predict' | 'models' | 'health';

export interface PageContext {
  state: AppState;
  /** The page's container. */
  root: HTMLElement;
  /** Re-reads the models list (after a promotion) and refreshes the picker. */
  refreshModels: () => Promise<void>;
  /** Whether this page is still the one shown (async answers for a left page are dropped). */
  current: () => boolean;
}
