export * from './catalog.js';
export * from './linux-collector.js';
export * from './spool.js';
