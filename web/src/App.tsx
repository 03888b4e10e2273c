import { Center, Loader } from "@mantine/core";
import { Suspense } from "react";
import { Route, Routes } from "react-router";

import { ProblemError } from "./api/problem";
import { SessionProvider, useSession, useSessionQuery } from "./auth/session";
import { ProblemAlert } from "./components/ProblemAlert";
import { Shell } from "./layout/Shell";
import NotFound from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { SCREENS } from "./routes";

export function App() {
  const query = useSessionQuery();
  if (query.isPending) return <Waiting />;
  if (query.isError) {
    const error = query.error;
    if (error instanceof ProblemError && error.status === 401) {
      const loginUrl = typeof error.problem.login_url === "string" ? error.problem.login_url : undefined;
      return <SignIn expired={error.kind === "session-expired"} loginUrl={loginUrl} />;
    }
    return (
      <Center mih="100vh" p="md">
        <ProblemAlert error={error} title="SprintConnect could not load" />
      </Center>
    );
  }
  return (
    <SessionProvider value={query.data}>
      <Shell>
        <Suspense fallback={<Waiting />}>
          <ScreenRoutes />
        </Suspense>
      </Shell>
    </SessionProvider>
  );
}

/** The screens this caller may see; any other address is "nothing here". */
function ScreenRoutes() {
  const session = useSession();
  return (
    <Routes>
      {SCREENS.filter((s) => s.visible?.(session) ?? true).map((s) => (
        <Route key={s.path} path={s.path} element={<s.component />} />
      ))}
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function Waiting() {
  return (
    <Center mih="50vh">
      <Loader role="status" aria-label="Loading" />
    </Center>
  );
}
