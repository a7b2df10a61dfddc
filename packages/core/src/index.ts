export * from './audio/types.ts';
export * from './conversation/types.ts';
export * from './errors.ts';
export * from './protocol/messages.ts';
