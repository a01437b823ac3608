export * from './catalog.js';
export * from './linux-collector.js';
