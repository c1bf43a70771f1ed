/**
 * Server-side rendering: importing and rendering the React bindings in Node, where there is no
 * window, must work and must render the signed-out state (the server cannot see storage).
 */
import { describe, expect, it } from 'vitest';
import { renderToString } from 'react-dom/server';

describe('server-side rendering', () => {
  it('imports and renders without window', async () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
    const { createClient } = await import('@sessiond/client');
    const { SessionProvider, useSession } = await import('../src/index.js');

    // Default options: localStorage is asked for, and memory is what the server gets.
    const client = createClient({ baseURL: 'http://auth.test', projectId: 'ssr' });
    function Who() {
      const { data, isPending, error } = useSession();
      return (
        <p>
          {data ? `in as ${data.user.email}` : 'signed out'}|{String(isPending)}|{String(error)}
        </p>
      );
    }
    const html = renderToString(
      <SessionProvider client={client}>
        <Who />
      </SessionProvider>,
    );
    expect(html).toBe('<p>signed out<!-- -->|<!-- -->false<!-- -->|<!-- -->null</p>');
  });

  it('useSession outside a provider says what is missing', async () => {
    const { useSession } = await import('../src/index.js');
    function Orphan() {
      useSession();
      return null;
    }
    expect(() => renderToString(<Orphan />)).toThrow(/SessionProvider/);
  });
});
