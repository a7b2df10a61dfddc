export { TalkButton, Transcript, useAgentConversation } from '@voicewire/react';
