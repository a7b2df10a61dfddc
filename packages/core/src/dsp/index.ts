export * from './createResampler.ts';
