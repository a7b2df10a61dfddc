import { configure } from 'storybook/test';

// The play functions' waitFor/findBy: what must eventually happen in the browser, polled for up
// to 20 s rather than Testing Library's 1 s (a loaded machine renders late; a pass is not slower).
configure({ asyncUtilTimeout: 20_000 });
