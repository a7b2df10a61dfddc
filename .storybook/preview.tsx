import type { Preview } from '@storybook/react-vite';
import { StrictMode } from 'react';
import '@voicewire/react/styles.css';
import './preview.css';

const preview: Preview = {
  // An autodocs page per component: the props table from the TSDoc, a live example, the CSS
  // variables (in each component's description).
  tags: ['autodocs'],
  // Every story renders under StrictMode (double mounts, double effects), as integrators' dev
  // builds do: the components must open exactly one socket and survive the remount.
  decorators: [
    (Story) => (
      <StrictMode>
        <Story />
      </StrictMode>
    ),
  ],
  parameters: {
    layout: 'padded',
    a11y: { test: 'error' },
  },
};
export default preview;
