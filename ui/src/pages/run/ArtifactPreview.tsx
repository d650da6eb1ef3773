// The preview of one artifact file (or of a model directory's MLmodel): text, JSON, CSV/TSV as a table,
// images, a model card; anything else gets "cannot preview" and a download link. Content is always
// rendered as text or React nodes, never as HTML.
import { artifactUrl } from "../../api/client";
import { readArtifactHead } from "../../api/artifacts";
import { ErrorBox, Loading } from "../../components/Status";
import { formatBytes } from "../../format";
import { useApi } from "../../hooks/useApi";
import { parseDelimited } from "./csv";
import { modelCard, signatureColumns } from "./mlmodel";

export const TEXT_LIMIT = 1024 * 1024;
const IMAGE_LIMIT = 50 * 1024 * 1024;
const TABLE_ROWS = 200;

const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp"]);
const TABLE: Record<string, string> = { csv: ",", tsv: "\t" };
const BINARY = new Set([
  "pkl", "pickle", "joblib", "pt", "pth", "onnx", "bin", "npy", "npz", "h5", "hdf5", "parquet", "zip",
  "gz", "tar", "whl", "so", "exe", "pdf", "ubj", "skops", "safetensors", "pb", "tflite", "mp4", "mp3",
]);

export function extensionOf(path: string): string {
  const name = path.split("/").pop() ?? "";
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function baseName(path: string): string {
  return path.split("/").pop() ?? path;
}

/** UTF-8 text, or undefined when the bytes look binary (NUL bytes or invalid UTF-8). */
function decodeText(bytes: Uint8Array, truncated: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    // A truncated read may cut a multi-byte character: drop up to 3 trailing bytes before decoding.
    let end = bytes.length;
    if (truncated) while (end > bytes.length - 3 && end > 0 && (bytes[end - 1] & 0xc0) === 0x80) end -= 1;
    if (truncated && end > 0 && bytes[end - 1] >= 0xc0) end -= 1;
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return undefined;
  }
}

function Download({ runId, path }: { runId: string; path: string }) {
  return (
    <a className="button" href={artifactUrl(runId, path)} download={baseName(path)} data-testid="artifact-download">
      Download
    </a>
  );
}

function CannotPreview({ runId, path, why }: { runId: string; path: string; why: string }) {
  return (
    <div className="cannot-preview" data-testid="cannot-preview">
      <p>Cannot preview {baseName(path)}: {why}.</p>
      <Download runId={runId} path={path} />
    </div>
  );
}

function Truncated({ limit }: { limit: number }) {
  return (
    <div className="muted truncated" data-testid="preview-truncated">
      Showing the first {formatBytes(limit)}; download the file for the rest.
    </div>
  );
}

function DelimitedTable({ text, delimiter }: { text: string; delimiter: string }) {
  const rows = parseDelimited(text, delimiter, TABLE_ROWS + 1);
  if (!rows.length) return <div className="muted">Empty file.</div>;
  const [head, ...body] = rows;
  return (
    <div className="preview-table-box">
      <table className="grid preview-table" data-testid="preview-table">
        <thead>
          <tr>
            {head.map((cell, i) => (
              <th key={i}>{cell}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.slice(0, TABLE_ROWS - 1).map((row, r) => (
            <tr key={r}>
              {row.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {body.length >= TABLE_ROWS && <div className="muted">First {TABLE_ROWS - 1} rows.</div>}
    </div>
  );
}

function SignatureTable({ title, spec }: { title: string; spec: string | undefined }) {
  if (!spec) return null;
  const columns = signatureColumns(spec);
  return (
    <div>
      <h4>{title}</h4>
      {columns ? (
        <table className="grid" data-testid={`signature-${title.toLowerCase()}`}>
          <thead>
            <tr>
              <th>name</th>
              <th>type</th>
            </tr>
          </thead>
          <tbody>
            {columns.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td className="mono">{c.type}</td>
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

/** A model directory's MLmodel as a card: flavors, signature, facts. */
export function ModelCardView({ runId, dir }: { runId: string; dir: string }) {
  const path = dir ? `${dir}/MLmodel` : "MLmodel";
  const state = useApi((signal) => readArtifactHead(runId, path, TEXT_LIMIT, signal), [runId, path]);
  if (state.error) return <ErrorBox error={state.error} title="MLmodel" />;
  if (!state.data) return <Loading />;
  const text = decodeText(state.data.bytes, state.data.truncated) ?? "";
  const card = modelCard(text);
  return (
    <div className="model-card card" data-testid="model-card">
      <h3>Model {dir || "(root)"}</h3>
      <dl className="kv">
        {card.fields.map(([k, v]) => (
          <div key={k} className="kv-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <h4>Flavors</h4>
      <ul className="flavors" data-testid="model-flavors">
        {card.flavors.map((f) => (
          <li key={f.name}>
            <strong>{f.name}</strong>
            {f.details.length > 0 && (
              <span className="muted"> — {f.details.map(([k, v]) => `${k}: ${v}`).join(", ")}</span>
            )}
          </li>
        ))}
      </ul>
      {(card.inputs || card.outputs) && <h4>Signature</h4>}
      <div className="signature">
        <SignatureTable title="Inputs" spec={card.inputs} />
        <SignatureTable title="Outputs" spec={card.outputs} />
      </div>
      <details>
        <summary>MLmodel</summary>
        <pre className="preview">{text}</pre>
      </details>
      <Download runId={runId} path={path} />
    </div>
  );
}

function FileBody({ runId, path, size }: { runId: string; path: string; size: number | undefined }) {
  const ext = extensionOf(path);
  const state = useApi((signal) => readArtifactHead(runId, path, TEXT_LIMIT, signal), [runId, path]);
  if (state.error) return <ErrorBox error={state.error} title={baseName(path)} />;
  if (!state.data) return <Loading />;
  const { bytes, truncated } = state.data;
  const text = decodeText(bytes, truncated);
  if (text === undefined) return <CannotPreview runId={runId} path={path} why="it is a binary file" />;
  if (ext === "json" && !truncated) {
    let pretty: string | undefined;
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      pretty = undefined;
    }
    if (pretty !== undefined)
      return (
        <pre className="preview" data-testid="preview-json">
          {pretty}
        </pre>
      );
  }
  if (ext in TABLE)
    return (
      <>
        <DelimitedTable text={text} delimiter={TABLE[ext]} />
        {truncated && <Truncated limit={TEXT_LIMIT} />}
      </>
    );
  return (
    <>
      {truncated && <Truncated limit={TEXT_LIMIT} />}
      <pre className="preview" data-testid="preview-text">
        {text}
      </pre>
      {size !== undefined && size > TEXT_LIMIT && !truncated && <Truncated limit={TEXT_LIMIT} />}
    </>
  );
}

/** The preview pane of a selected file. */
export function ArtifactPreview({ runId, path, size }: { runId: string; path: string; size?: number }) {
  const ext = extensionOf(path);
  let body;
  if (IMAGE.has(ext)) {
    body =
      size !== undefined && size > IMAGE_LIMIT ? (
        <CannotPreview runId={runId} path={path} why={`the image is too big (${formatBytes(size)})`} />
      ) : (
        <img className="preview-image" src={artifactUrl(runId, path)} alt={baseName(path)} data-testid="preview-image" />
      );
  } else if (BINARY.has(ext)) {
    body = <CannotPreview runId={runId} path={path} why="it is a binary file" />;
  } else {
    body = <FileBody key={path} runId={runId} path={path} size={size} />;
  }
  return (
    <div className="artifact-preview" data-testid="artifact-preview">
      <div className="toolbar">
        <strong className="mono" data-testid="preview-path">
          {path}
        </strong>
        {size !== undefined && <span className="muted">{formatBytes(size)}</span>}
        <span className="grow" />
        <Download runId={runId} path={path} />
      </div>
      {body}
    </div>
  );
}
