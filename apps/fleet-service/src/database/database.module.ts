import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { buildDataSourceOptions, ensurePostgresSchema, openDataSource } from './data-source-options.js';

/** One TypeORM data source (SQLite file or PostgreSQL); migrations run at boot on both. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        if (config.database.type === 'postgres') {
          await ensurePostgresSchema(config.database.url, config.database.schema);
        }
        return { ...buildDataSourceOptions(config), autoLoadEntities: true };
      },
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('TypeORM options missing');
        return openDataSource(options);
      },
    }),
  ],
})
export class DatabaseModule {}
