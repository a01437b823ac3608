export * from './mosquitto.js';
export * from './openai-test-server.js';
export * from './ports.js';
export * from './postgres.js';
export * from './wait.js';
