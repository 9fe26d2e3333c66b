import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';

// Unmount first (the app unlistens through the mocks), then drop the mocks.
afterEach(() => {
  cleanup();
  clearMocks();
});
