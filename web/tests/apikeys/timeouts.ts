import { vi } from "vitest";

// Forms typed key by key in jsdom are slow on a busy machine.
vi.setConfig({ testTimeout: 20_000 });
