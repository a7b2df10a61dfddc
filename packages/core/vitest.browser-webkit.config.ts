import { coreBrowserConfig } from './vitest.browser.config.ts';

export default coreBrowserConfig('webkit');
