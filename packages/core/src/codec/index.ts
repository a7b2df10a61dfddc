export * from './base64.ts';
export * from './mulaw.ts';
export * from './pcm16.ts';
