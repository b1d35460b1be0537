import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { Loading } from './common/ui';
import { ComponentPage } from './components/component-page';
import { ComponentsPage } from './components/components-page';
import { RunPage } from './runs/run-page';
import { RunsPage } from './runs/runs-page';
import { SessionProvider, useSession } from './session/session';
import { SignInPage } from './session/sign-in-page';
import { Layout } from './shell/layout';
import { NotFoundPage } from './shell/not-found-page';
import { WorkflowPage } from './workflows/workflow-page';
import { WorkflowsPage } from './workflows/workflows-page';

// the editors (CodeMirror, the data map) load when first opened
const WorkflowEditorPage = lazy(() =>
  import('./editor/workflow-editor-page').then((m) => ({ default: m.WorkflowEditorPage })),
);
const RegisterComponentPage = lazy(() =>
  import('./components/register-component-page').then((m) => ({ default: m.RegisterComponentPage })),
);

function Later({ what, children }: { readonly what: string; readonly children: ReactNode }) {
  return <Suspense fallback={<Loading what={what} />}>{children}</Suspense>;
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/runs" replace /> },
      { path: 'runs', element: <RunsPage /> },
      { path: 'runs/:id', element: <RunPage /> },
      { path: 'workflows', element: <WorkflowsPage /> },
      { path: 'workflows/:name', element: <WorkflowPage /> },
      {
        path: 'workflows/:name/edit',
        element: (
          <Later what="the editor">
            <WorkflowEditorPage />
          </Later>
        ),
      },
      { path: 'components', element: <ComponentsPage /> },
      {
        path: 'components/new',
        element: (
          <Later what="the editor">
            <RegisterComponentPage />
          </Later>
        ),
      },
      { path: 'components/:name', element: <ComponentPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

function Gate() {
  const { session } = useSession();
  if (session === undefined) return <Loading what="your session" />;
  if (session === null) return <SignInPage />;
  return <RouterProvider router={router} />;
}

/** The whole UI: sign-in first, then the pages. */
export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}
