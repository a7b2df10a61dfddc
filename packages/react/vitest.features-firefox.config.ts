import { featuresConfig } from './vitest.features.config.ts';

export default featuresConfig('firefox');
