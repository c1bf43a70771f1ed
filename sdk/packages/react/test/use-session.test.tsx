// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, memoryStorage, type Session, type SessiondClient } from '@sessiond/client';
import { SessionProvider, useSession, type UseSessionResult } from '../src/index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const USER = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  image: null,
  emailVerified: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const SESSION: Session = {
  user: USER,
  sessionId: 's1',
  accessToken: 'a.b.c',
  expiresAt: Math.floor(Date.now() / 1000) + 600,
  method: 'email',
};

let root: Root;
let container: HTMLElement;
const seen: UseSessionResult[] = [];

function Probe() {
  const result = useSession();
  seen.push(result);
  return <p>{result.data ? result.data.user.name : 'signed out'}</p>;
}

function mount(client: SessiondClient) {
  act(() => {
    root.render(
      <SessionProvider client={client}>
        <Probe />
      </SessionProvider>,
    );
  });
}

beforeEach(() => {
  vi.stubGlobal('BroadcastChannel', undefined);
  seen.length = 0;
  container = document.createElement('div');
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
});

describe('useSession', () => {
  it('has the restored session on the very first render', () => {
    const storage = memoryStorage();
    storage.setItem('sessiond_session_p', JSON.stringify(SESSION));
    mount(createClient({ baseURL: 'http://auth.test', projectId: 'p', storage, autoRefresh: false }));
    expect(seen[0]).toMatchObject({ data: SESSION, isPending: false, error: null });
    expect(container.textContent).toBe('Alice');
  });

  it('re-renders on every auth state change', () => {
    const client = createClient({ baseURL: 'http://auth.test', projectId: 'p', storage: 'memory', autoRefresh: false });
    mount(client);
    expect(container.textContent).toBe('signed out');
    act(() => client.setSession(SESSION));
    expect(container.textContent).toBe('Alice');
    act(() => client.setUser({ ...USER, name: 'Alice B.' }));
    expect(container.textContent).toBe('Alice B.');
    act(() => client.clearLocalData());
    expect(container.textContent).toBe('signed out');
  });

  it('refetch reads the server, with isPending while it runs and error when it fails', async () => {
    let answer: (response: Response) => void = () => undefined;
    const fetch = vi.fn<typeof globalThis.fetch>(() => new Promise((resolve) => (answer = resolve)));
    const storage = memoryStorage();
    storage.setItem('sessiond_session_p', JSON.stringify(SESSION));
    const client = createClient({ baseURL: 'http://auth.test', projectId: 'p', storage, fetch, autoRefresh: false });
    mount(client);

    let pending!: Promise<void>;
    act(() => {
      pending = seen.at(-1)!.refetch();
    });
    expect(seen.at(-1)?.isPending).toBe(true);
    await act(async () => {
      answer(new Response(JSON.stringify({ session: {}, user: { ...USER, name: 'From DB' } })));
      await pending;
    });
    expect(seen.at(-1)).toMatchObject({ isPending: false, error: null });
    expect(container.textContent).toBe('From DB');

    act(() => {
      pending = seen.at(-1)!.refetch();
    });
    await act(async () => {
      answer(new Response(JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'down' }), { status: 503 }));
      await pending;
    });
    expect(seen.at(-1)?.isPending).toBe(false);
    expect(seen.at(-1)?.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(container.textContent).toBe('From DB');
  });

  it('accepts the client as an argument instead of a provider', () => {
    const client = createClient({ baseURL: 'http://auth.test', projectId: 'p', storage: 'memory' });
    function Direct() {
      return <p>{useSession(client).data ? 'in' : 'out'}</p>;
    }
    act(() => root.render(<Direct />));
    expect(container.textContent).toBe('out');
  });
});
