// A version's model signature, read from the MLmodel file of its model directory.
import { versionText } from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { useApi } from "../../hooks/useApi";
import { modelCard, signatureColumns } from "../run/mlmodel";

function Columns({ title, spec, testId }: { title: string; spec: string | undefined; testId: string }) {
  if (!spec) return null;
  const columns = signatureColumns(spec);
  return (
    <div className="signature-part" data-testid={testId}>
      <h3>{title}</h3>
      {columns ? (
        <table className="grid compact">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {columns.map((col, i) => (
              <tr key={`${col.name}-${i}`}>
                <td className="mono">{col.name}</td>
                <td className="mono">{col.type}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <pre className="preview">{spec}</pre>
      )}
    </div>
  );
}

export function Signature({ name, version }: { name: string; version: string }) {
  const mlmodel = useApi((signal) => versionText(name, version, "MLmodel", signal), [name, version]);
  let body;
  if (mlmodel.error) body = <ErrorBox error={mlmodel.error} title="Could not read the model's MLmodel file" />;
  else if (mlmodel.loading && mlmodel.data === undefined) body = <Loading />;
  else if (mlmodel.data === undefined) body = <p className="muted">No MLmodel file in this version's source: no signature.</p>;
  else {
    const card = modelCard(mlmodel.data);
    body =
      card.inputs || card.outputs ? (
        <div className="signature">
          <Columns title="Inputs" spec={card.inputs} testId="signature-inputs" />
          <Columns title="Outputs" spec={card.outputs} testId="signature-outputs" />
        </div>
      ) : (
        <p className="muted">No signature.</p>
      );
    if (card.flavors.length) {
      body = (
        <>
          {body}
          <p className="muted">Flavors: {card.flavors.map((f) => f.name).join(", ")}</p>
        </>
      );
    }
  }
  return (
    <section className="reg-section" data-testid="signature">
      <h2>Signature</h2>
      {body}
    </section>
  );
}
