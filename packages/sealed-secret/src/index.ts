export * from './sealed-secret.js';
