// @vitest-environment node
import { AudioVisualizer, ConversationStatus, DeviceSelect, VoiceWidget } from '@voicewire/react';
import { renderToString } from 'react-dom/server';
import { expect, it } from 'vitest';
import { createFakeConversation } from './fakeConversation.ts';

it('the new components render on the server, touching no browser global', () => {
  const conversation = createFakeConversation();
  const html = renderToString(
    <>
      <VoiceWidget agentId="agent-1" url="ws://127.0.0.1:8787/v1/talk" />
      <AudioVisualizer conversation={conversation} />
      <ConversationStatus conversation={conversation} />
      <DeviceSelect conversation={conversation} kind="audioinput" />
    </>,
  );
  expect(html).toContain('data-voicewire="voice-widget-launcher"');
  expect(html).toContain('aria-expanded="false"');
  expect(html).toContain('role="status"');
  expect(html).toContain('<canvas');
  // No device list on the server: the select waits, disabled, for the browser's.
  expect(html).toMatch(/<select[^>]*disabled/);
});
