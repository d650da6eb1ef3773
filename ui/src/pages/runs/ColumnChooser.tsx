// The column chooser: the param, metric and tag keys of the loaded runs, with a search box; checking a key
// shows its column.
import { useEffect, useRef, useState } from "react";
import { keyColumnId, parseColumnId, type KeyKind, type SeenKeys } from "./columns";

const SECTIONS: { kind: KeyKind; label: string }[] = [
  { kind: "metrics", label: "Metrics" },
  { kind: "params", label: "Params" },
  { kind: "tags", label: "Tags" },
];

export function ColumnChooser({
  seen,
  chosen,
  onChange,
}: {
  seen: SeenKeys;
  chosen: string[];
  onChange: (columns: string[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const close = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);

  const toggle = (id: string) =>
    onChange(chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  const needle = search.trim().toLowerCase();

  return (
    <div className="column-chooser" ref={ref}>
      <button
        type="button"
        onClick={() => setOpen(!open)}
        aria-expanded={open}
        data-testid="column-chooser"
      >
        Columns ({chosen.length})
      </button>
      {open && (
        <div className="popover column-popover" data-testid="column-popover" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
          <input
            type="search"
            autoFocus
            placeholder="Search keys"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            data-testid="column-search"
          />
          {SECTIONS.map(({ kind, label }) => {
            const fromUrl = chosen.map(parseColumnId).filter((c) => c?.kind === kind).map((c) => c!.key);
            const keys = [...new Set([...seen[kind], ...fromUrl])].filter((k) => k.toLowerCase().includes(needle));
            if (!keys.length) return null;
            return (
              <fieldset key={kind}>
                <legend>{label}</legend>
                {keys.map((key) => {
                  const id = keyColumnId(kind, key);
                  return (
                    <label key={id} className="column-option">
                      <input
                        type="checkbox"
                        checked={chosen.includes(id)}
                        onChange={() => toggle(id)}
                        data-testid={`column-option-${id}`}
                      />
                      {key}
                    </label>
                  );
                })}
              </fieldset>
            );
          })}
          <div className="toolbar">
            <button type="button" onClick={() => onChange([])} data-testid="column-none">
              None
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
