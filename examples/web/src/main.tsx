import { SessionProvider } from '@sessiond/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { auth } from './auth';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider client={auth}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
