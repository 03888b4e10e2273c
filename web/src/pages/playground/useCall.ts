// The call in progress: run, watch its progress, cancel. Each call's arguments are kept in this
// tab for the history, and the history is refreshed once the server has measured the call.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";

import { HISTORY_KEY } from "./data";
import { invoke, type CallRequest, type Invocation, type Progress } from "./invoke";
import { keepCall } from "./storage";

// Measurements are written in batches about every half second.
const MEASURED_AFTER_MS = 1500;

export type Phase = "idle" | "running" | "done" | "failed" | "cancelled";

export interface CallState {
  phase: Phase;
  request: CallRequest | null;
  progress: Progress | null;
  invocation: Invocation | null;
  error: unknown;
}

const IDLE: CallState = { phase: "idle", request: null, progress: null, invocation: null, error: null };

export function useCall(sessionId: string) {
  const client = useQueryClient();
  const [state, setState] = useState<CallState>(IDLE);
  const controller = useRef<AbortController | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      controller.current?.abort();
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const run = useCallback(
    async (request: CallRequest) => {
      controller.current?.abort();
      const mine = new AbortController();
      controller.current = mine;
      let offset = 0;
      setState({ ...IDLE, phase: "running", request });
      let next: CallState;
      try {
        const invocation = await invoke(request, {
          signal: mine.signal,
          onProgress: (progress) => {
            if (controller.current === mine) setState((s) => ({ ...s, progress }));
          },
          onClock: (ms) => {
            offset = ms;
          },
        });
        next = { ...IDLE, phase: "done", request, invocation };
      } catch (error) {
        next = { ...IDLE, phase: mine.signal.aborted ? "cancelled" : "failed", request, error: mine.signal.aborted ? null : error };
      }
      keepCall(sessionId, {
        at: Date.now() + offset,
        serverId: request.serverId,
        kind: request.kind,
        name: request.name,
        arguments: request.arguments,
      });
      if (controller.current === mine) {
        controller.current = null;
        setState(next);
      }
      void client.invalidateQueries({ queryKey: HISTORY_KEY });
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => void client.invalidateQueries({ queryKey: HISTORY_KEY }), MEASURED_AFTER_MS);
    },
    [client, sessionId],
  );

  const cancel = useCallback(() => controller.current?.abort(), []);
  const reset = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    setState(IDLE);
  }, []);

  return { state, run, cancel, reset };
}
