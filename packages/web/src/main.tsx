import '@xyflow/react/dist/style.css';
import './styles.css';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';

const queries = new QueryClient({
  defaultOptions: {
    queries: { retry: (count, error) => count < 2 && (error as { status?: number }).status === 0, staleTime: 2000 },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
