import { join } from 'node:path';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { AppLogger } from '../telemetry/logger';
import { PostgresDatabase } from './postgres.database';
import { SqlDatabase } from './sql-database';
import { SqliteDatabase } from './sqlite.database';

/** SQLite at `${DATA_DIR}/vigil.db` unless `DATABASE_URL` points at PostgreSQL. Migrated before use. */
export function createDatabase(config: AppConfig, logger?: AppLogger): SqlDatabase {
  if (config.DATABASE_URL) {
    return new PostgresDatabase({
      connectionString: config.DATABASE_URL,
      onIdleError: (error) =>
        logger?.warn('PostgreSQL connection lost; the pool reconnects on next use', {
          'event.action': 'database-connection-error',
          'error.message': error.message,
        }),
    });
  }
  return new SqliteDatabase({ file: join(config.DATA_DIR, 'vigil.db') });
}

@Global()
@Module({
  providers: [
    {
      provide: SqlDatabase,
      inject: [AppConfig, AppLogger],
      useFactory: async (config: AppConfig, logger: AppLogger): Promise<SqlDatabase> => {
        const database = createDatabase(config, logger);
        const applied = await database.migrate();
        if (applied.length > 0)
          logger.info(`Applied ${applied.length} database migration(s)`, {
            'event.action': 'database-migrate',
            'vigil.migrations': applied,
          });
        return database;
      },
    },
  ],
  exports: [SqlDatabase],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(SqlDatabase) private readonly database: SqlDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
