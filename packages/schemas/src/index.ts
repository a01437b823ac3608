export * from './agents.js';
export * from './api.js';
export * from './codec.js';
export * from './ids.js';
export * from './limits.js';
export * from './messages.js';
export * from './topics.js';
export * from './live.js';
