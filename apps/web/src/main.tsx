import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@voicewire/react/styles.css';
import './styles.css';
import { App } from './App.tsx';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

// StrictMode on purpose: the library promises one socket even when effects run twice.
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
