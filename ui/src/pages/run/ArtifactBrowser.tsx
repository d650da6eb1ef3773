// A run's artifacts: a folder tree (each folder listed when first opened) and the selected file's
// preview; a folder holding an MLmodel file is shown as a model card. The selection is in the URL.
import { useState } from "react";
import { listArtifacts } from "../../api/artifacts";
import type { FileInfo } from "../../api/types";
import { ErrorBox, Loading } from "../../components/Status";
import { formatBytes } from "../../format";
import { useApi } from "../../hooks/useApi";
import { useUrlState } from "../../hooks/useUrlState";
import { ArtifactPreview, ModelCardView } from "./ArtifactPreview";

function name(path: string): string {
  return path.split("/").pop() ?? path;
}

function Folder({
  runId,
  path,
  depth,
  selected,
  onSelect,
}: {
  runId: string;
  path: string;
  depth: number;
  selected: string;
  onSelect: (file: FileInfo) => void;
}) {
  const listing = useApi((signal) => listArtifacts(runId, path, signal), [runId, path]);
  if (listing.error) return <ErrorBox error={listing.error} title={path || "Artifacts"} />;
  if (!listing.data) return <Loading />;
  if (!listing.data.length && depth === 0) return <div className="muted">No artifacts.</div>;
  const files = [...listing.data].sort((a, b) => Number(!!b.is_dir) - Number(!!a.is_dir) || a.path.localeCompare(b.path));
  return (
    <ul className="artifact-tree" role={depth === 0 ? "tree" : "group"}>
      {files.map((file) => (
        <Node key={file.path} runId={runId} file={file} depth={depth} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function Node({
  runId,
  file,
  depth,
  selected,
  onSelect,
}: {
  runId: string;
  file: FileInfo;
  depth: number;
  selected: string;
  onSelect: (file: FileInfo) => void;
}) {
  const [open, setOpen] = useState(file.is_dir ? selected.startsWith(`${file.path}/`) : false);
  return (
    <li role="treeitem" aria-expanded={file.is_dir ? open : undefined}>
      <button
        type="button"
        className={`artifact-node${selected === file.path ? " active" : ""}`}
        style={{ paddingLeft: 6 + depth * 14 }}
        data-testid="artifact-node"
        data-path={file.path}
        onClick={() => {
          if (file.is_dir) setOpen(!open || selected !== file.path);
          onSelect(file);
        }}
      >
        <span className="artifact-icon" aria-hidden="true">
          {file.is_dir ? (open ? "▾" : "▸") : "·"}
        </span>
        {name(file.path)}
        {!file.is_dir && file.file_size !== undefined && (
          <span className="muted artifact-size">{formatBytes(file.file_size)}</span>
        )}
      </button>
      {file.is_dir && open && (
        <Folder runId={runId} path={file.path} depth={depth + 1} selected={selected} onSelect={onSelect} />
      )}
    </li>
  );
}

/** The right pane for a selected folder: its model card when it holds an MLmodel. */
function FolderPane({ runId, path }: { runId: string; path: string }) {
  const listing = useApi((signal) => listArtifacts(runId, path, signal), [runId, path]);
  if (listing.error) return <ErrorBox error={listing.error} title={path} />;
  if (!listing.data) return <Loading />;
  if (listing.data.some((f) => !f.is_dir && name(f.path) === "MLmodel")) return <ModelCardView runId={runId} dir={path} />;
  return (
    <div className="muted" data-testid="folder-pane">
      Folder {path || "(root)"}: {listing.data.length} item(s). Select a file to preview it.
    </div>
  );
}

export function ArtifactBrowser({ runId }: { runId: string }) {
  // One URL key (two updates in one event would race): a folder's path ends with "/".
  const [selection, setSelection] = useUrlState("path");
  const isDir = selection.endsWith("/");
  const selected = isDir ? selection.slice(0, -1) : selection;
  const [size, setSize] = useState<number | undefined>(undefined);
  const select = (file: FileInfo) => {
    setSelection(file.is_dir ? `${file.path}/` : file.path);
    setSize(file.file_size === undefined ? undefined : Number(file.file_size));
  };
  return (
    <div className="artifact-browser" data-testid="artifact-browser">
      <nav className="artifact-tree-pane">
        <Folder runId={runId} path="" depth={0} selected={selected} onSelect={select} />
      </nav>
      <section className="artifact-preview-pane">
        {!selected ? (
          <FolderPane runId={runId} path="" />
        ) : isDir ? (
          <FolderPane key={selected} runId={runId} path={selected} />
        ) : (
          <ArtifactPreview key={selected} runId={runId} path={selected} size={size} />
        )}
      </section>
    </div>
  );
}
