import { Navigate, RouterProvider, createHashRouter } from "react-router-dom";
import { Layout } from "./components/Layout";
import { ErrorBox } from "./components/Status";
import { ExperimentsPage } from "./pages/experiments/ExperimentsPage";
import { RunsPage } from "./pages/runs/RunsPage";
import { RunPage } from "./pages/run/RunPage";
import { ComparePage } from "./pages/compare/ComparePage";
import { ModelsPage } from "./pages/registry/ModelsPage";
import { ModelPage } from "./pages/registry/ModelPage";
import { VersionPage } from "./pages/registry/VersionPage";

// Hash routes (`/#/experiments/1?...`): every view's state is in the URL, and the server needs no
// fallback route for the app's paths.
const router = createHashRouter([
  {
    element: <Layout />,
    errorElement: <ErrorBox error="This page failed to render. Reload, or go back to the experiments." />,
    children: [
      { index: true, element: <Navigate to="/experiments" replace /> },
      { path: "experiments", element: <ExperimentsPage /> },
      { path: "experiments/:experimentIds", element: <RunsPage /> },
      { path: "runs/:runId", element: <RunPage /> },
      { path: "compare", element: <ComparePage /> },
      { path: "models", element: <ModelsPage /> },
      { path: "models/:name", element: <ModelPage /> },
      { path: "models/:name/versions/:version", element: <VersionPage /> },
      { path: "*", element: <ErrorBox error="No such page." /> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
