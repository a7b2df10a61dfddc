export * from './errorCodes.ts';
export * from './messages.ts';
export * from './parseClientMessage.ts';
export * from './parseServerMessage.ts';
export * from './validateSetup.ts';
