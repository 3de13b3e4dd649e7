import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { EnvSchema } from './env.schema';

/** The validated, frozen settings. Injected as a concrete class: `constructor(private config: AppConfig)`. */
export class AppConfig extends EnvSchema {}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN = new Set(
  Object.keys(new EnvSchema()).concat([
    'DATABASE_URL',
    'ELASTICSEARCH_URL',
    'ADMIN_TOKEN',
    'PRIVACY_HASH_SALT',
  ]),
);

/** The only place that reads `process.env`. Lists every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const key of KNOWN) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((error) => {
        const constraints = Object.values(error.constraints ?? {}).join('; ');
        return `${error.property}=${JSON.stringify(raw[error.property])}: ${constraints}`;
      }),
    );
  }
  return Object.freeze(config);
}

/** A config for tests: defaults plus overrides, validated like the real one. */
export function makeConfig(overrides: Record<string, string | number | boolean | undefined> = {}): AppConfig {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) env[key] = String(value);
  return loadConfig(env);
}
