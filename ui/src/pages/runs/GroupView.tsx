// The grouped view: one row per distinct value of a param or tag over ALL the runs matching the filter,
// with the run count and the mean, min and max of chosen metrics' latest values (computed by the server).
import { groupRuns } from "../../api/runs";
import { ErrorBox, Empty, Loading } from "../../components/Status";
import { formatNumber } from "../../format";
import { useApi } from "../../hooks/useApi";

export function GroupView({
  experimentIds,
  filter,
  groupBy,
  metrics,
  onPick,
}: {
  experimentIds: string[];
  filter: string;
  groupBy: string;
  metrics: string[];
  /** Show the runs of one group (value undefined: the runs lacking the key). */
  onPick: (value: string | undefined) => void;
}) {
  const { data, error, loading } = useApi(
    (signal) => groupRuns({ experimentIds, filter, groupBy, metrics }, signal),
    [experimentIds.join(","), filter, groupBy, metrics.join("\n")],
  );
  if (error) return <ErrorBox error={error} title="Could not group the runs" />;
  if (!data) return loading ? <Loading /> : null;
  if (!data.groups.length) return <Empty>No runs match.</Empty>;
  return (
    <div className="group-view">
      <table className="grid group-table" data-testid="group-table">
        <thead>
          <tr>
            <th>{groupBy}</th>
            <th className="num">Runs</th>
            {metrics.map((m) => (
              <th key={m} colSpan={3} className="metric-head">
                {m} <span className="muted">(mean / min / max)</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.groups.map((group) => (
            <tr key={group.value ?? "\u0000none"} data-testid="group-row" data-group-value={group.value ?? ""}>
              <td>
                <button type="button" className="link" onClick={() => onPick(group.value)} title="Show these runs">
                  {group.value ?? <span className="muted">(not set)</span>}
                </button>
              </td>
              <td className="num" data-testid="group-count">
                {group.count}
              </td>
              {group.metrics.map((m) => (
                <GroupMetric key={m.key} summary={m} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {data.truncated && <div className="muted">Only the first {data.groups.length} values are shown.</div>}
    </div>
  );
}

function GroupMetric({ summary }: { summary: { key: string; mean?: number | string; min?: number | string; max?: number | string } }) {
  return (
    <>
      <td className="num" data-testid={`group-mean-${summary.key}`}>
        {formatNumber(summary.mean)}
      </td>
      <td className="num muted" data-testid={`group-min-${summary.key}`}>
        {formatNumber(summary.min)}
      </td>
      <td className="num muted" data-testid={`group-max-${summary.key}`}>
        {formatNumber(summary.max)}
      </td>
    </>
  );
}
