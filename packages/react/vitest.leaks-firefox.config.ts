import { leaksConfig } from './vitest.leaks.config.ts';

export default leaksConfig('firefox');
